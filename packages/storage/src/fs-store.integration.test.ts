/**
 * What only the fs store does: its files on disk (layout, metadata rebuilt from the file, temp
 * files, adopting a file by rename, file/folder clashes) and its presigned URLs. What every
 * store does is the Store contract (store-contract.integration.test.ts).
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createStore } from "./config";
import type { FsStore } from "./fs-store";
import { multipartEtag, PartSizeError } from "./fs-multipart";
import { parseQueryString } from "./http-reply";
import { verifyPresignedUrl } from "./presigned-url";
import { CannotAdoptFileError, InvalidObjectKeyError, ObjectKeyConflictError } from "./store";
import { listFiles, makeTempDir } from "./test-support/temp-dir";

const SECRET = "fleetdrop-test-secret-0123456789";

let temp: { dir: string; remove: () => Promise<void> };
let store: FsStore;

function fsStore(prefix?: string): FsStore {
  return createStore({
    backend: "fs",
    bucket: "uploads",
    rootDir: temp.dir,
    publicUrl: "http://127.0.0.1:9000",
    accessKeyId: "FLEETDROPTESTKEY",
    secretAccessKey: SECRET,
    ...(prefix !== undefined ? { prefix } : {}),
  });
}

function md5(data: string | Buffer): string {
  return `"${createHash("md5").update(data).digest("hex")}"`;
}

beforeEach(async () => {
  temp = await makeTempDir("fs-store");
  store = fsStore();
});

afterEach(async () => {
  await temp.remove();
});

describe("FsStore objects", () => {
  it("puts, heads, opens and deletes an object, with an MD5 ETag and files on disk", async () => {
    const info = await store.put("logs/system.log", "hello world", { contentType: "text/plain" });
    expect(info).toMatchObject({ key: "logs/system.log", size: 11, etag: md5("hello world"), contentType: "text/plain" });
    expect(await store.head("logs/system.log")).toEqual(info);
    expect(await readFile(path.join(temp.dir, "uploads/objects/logs/system.log"), "utf8")).toBe("hello world");
    const meta = JSON.parse(await readFile(path.join(temp.dir, "uploads/meta/logs/system.log"), "utf8")) as Record<string, unknown>;
    expect(meta).toMatchObject({ size: 11, etag: md5("hello world"), contentType: "text/plain" });

    const opened = await store.open("logs/system.log");
    expect(opened && (await text(opened.body))).toBe("hello world");

    await store.delete("logs/system.log");
    expect(await store.head("logs/system.log")).toBeNull();
    expect(await store.open("logs/system.log")).toBeNull();
    // Empty folders go with the last object, so `logs` can become an object itself.
    expect(await listFiles(path.join(temp.dir, "uploads"))).toEqual([]);
    await store.put("logs", "now a file", { contentType: "text/plain" });
    await store.delete("missing/key"); // deleting nothing is fine, as in S3
  });

  it("streams a Readable body of unknown length and replaces an existing object", async () => {
    await store.put("a.bin", "old", { contentType: "application/octet-stream" });
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(100_000, i));
    const info = await store.put("a.bin", Readable.from(chunks), { contentType: "application/x-test" });
    const all = Buffer.concat(chunks);
    expect(info).toMatchObject({ size: all.length, etag: md5(all), contentType: "application/x-test" });
    expect(await listFiles(path.join(temp.dir, "uploads/tmp"))).toEqual([]);
  });

  it("refuses a key segment longer than a file name can be, and writes nothing for refused keys", async () => {
    // The other refused keys are part of the Store contract (test-support/store-contract.ts).
    for (const key of ["x".repeat(256), "a/" + "y".repeat(256), "../escape"]) {
      await expect(store.put(key, "x", { contentType: "text/plain" }), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.head(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.presignPost({ key, contentType: "text/plain", maxBytes: 1, expiresIn: 60 }), key).rejects.toBeInstanceOf(
        InvalidObjectKeyError,
      );
    }
    expect(await listFiles(temp.dir)).toEqual([]);
  });

  it("reports a file/folder clash as ObjectKeyConflictError and leaves no temp file", async () => {
    await store.put("logs", "file", { contentType: "text/plain" });
    await expect(store.put("logs/system.log", "x", { contentType: "text/plain" })).rejects.toBeInstanceOf(ObjectKeyConflictError);
    await store.put("dir/inner", "x", { contentType: "text/plain" });
    await expect(store.put("dir", "x", { contentType: "text/plain" })).rejects.toBeInstanceOf(ObjectKeyConflictError);
    expect(await store.head("dir")).toBeNull(); // a folder is a prefix, not an object
    expect(await listFiles(path.join(temp.dir, "uploads/tmp"))).toEqual([]);
  });
});

describe("FsStore adopt", () => {
  const sha256Hex = (data: string) => createHash("sha256").update(data).digest("hex");

  it("makes a file on its filesystem an object by moving it: same bytes, same inode, the given SHA-256 as its ETag", async () => {
    const source = path.join(temp.dir, "staging.part");
    await writeFile(source, "staged bytes");
    const { ino } = await stat(source);
    const info = await store.adopt("sessions/R/1/file.bin", source, {
      size: 12,
      sha256Hex: sha256Hex("staged bytes"),
      contentType: "application/octet-stream",
    });
    expect(info).toMatchObject({
      key: "sessions/R/1/file.bin",
      size: 12,
      etag: `"${sha256Hex("staged bytes")}"`,
      contentType: "application/octet-stream",
    });
    const objectPath = path.join(temp.dir, "uploads/objects/sessions/R/1/file.bin");
    expect((await stat(objectPath)).ino).toBe(ino);
    await expect(stat(source)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await store.head("sessions/R/1/file.bin")).toEqual(info);
    expect(await listFiles(path.join(temp.dir, "uploads/tmp"))).toEqual([]);
  });

  it("refuses a file of another size, and one on another filesystem, leaving it in place", async () => {
    const source = path.join(temp.dir, "staging.part");
    await writeFile(source, "abc");
    await expect(store.adopt("k", source, { size: 4, sha256Hex: sha256Hex("abc"), contentType: "text/plain" })).rejects.toBeInstanceOf(
      CannotAdoptFileError,
    );
    expect(await readFile(source, "utf8")).toBe("abc");

    // /dev/shm is a tmpfs on Linux: a rename from there into the store's folder fails with EXDEV.
    const elsewhere = await mkdtemp("/dev/shm/fd-adopt-");
    try {
      const foreign = path.join(elsewhere, "staging.part");
      await writeFile(foreign, "abc");
      if ((await stat(foreign)).dev === (await stat(temp.dir)).dev) return; // same filesystem here: nothing to check
      await expect(store.adopt("k", foreign, { size: 3, sha256Hex: sha256Hex("abc"), contentType: "text/plain" })).rejects.toThrow(
        /another filesystem/,
      );
      expect(await readFile(foreign, "utf8")).toBe("abc");
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
    expect(await store.head("k")).toBeNull();
  });

  it("moves the file back when the key clashes with an existing folder", async () => {
    await store.put("logs/system.log", "x", { contentType: "text/plain" });
    const source = path.join(temp.dir, "staging.part");
    await writeFile(source, "abc");
    await expect(store.adopt("logs", source, { size: 3, sha256Hex: sha256Hex("abc"), contentType: "text/plain" })).rejects.toBeInstanceOf(
      ObjectKeyConflictError,
    );
    expect(await readFile(source, "utf8")).toBe("abc");
    expect(await listFiles(path.join(temp.dir, "uploads/tmp"))).toEqual([]);
  });

  it("keeps adopted objects under the store prefix", async () => {
    const config = fsStore("config");
    const source = path.join(temp.dir, "staging.part");
    await writeFile(source, "{}");
    const info = await config.adopt("R/a.json", source, { size: 2, sha256Hex: sha256Hex("{}"), contentType: "application/json" });
    expect(info.key).toBe("R/a.json");
    expect(await readFile(path.join(temp.dir, "uploads/objects/config/R/a.json"), "utf8")).toBe("{}");
  });
});

describe("FsStore metadata consistency", () => {
  it("rebuilds missing or foreign metadata from the file", async () => {
    await store.put("m.txt", "content", { contentType: "text/plain" });
    await rm(path.join(temp.dir, "uploads/meta/m.txt"));
    expect(await store.head("m.txt")).toMatchObject({ size: 7, etag: md5("content"), contentType: "application/octet-stream" });

    // The object replaced behind the store's back (another inode, another mtime): the content
    // type of the stale metadata is kept, size and ETag come from the file.
    await store.put("n.txt", "content", { contentType: "text/plain" });
    const objectPath = path.join(temp.dir, "uploads/objects/n.txt");
    await rm(objectPath);
    await writeFile(objectPath, "changed!");
    await utimes(objectPath, new Date(), new Date(Date.now() + 5000));
    expect(await store.head("n.txt")).toMatchObject({ size: 8, etag: md5("changed!"), contentType: "text/plain" });
    const opened = await store.open("n.txt");
    expect(opened && (await text(opened.body))).toBe("changed!");
  });

  it("keeps object and metadata together under concurrent writers of one key", async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => `version ${i} `.repeat(i + 1));
    await Promise.all(bodies.map((body) => store.put("race.txt", body, { contentType: "text/plain" })));
    const info = await store.head("race.txt");
    const opened = await store.open("race.txt");
    const content = opened ? await text(opened.body) : "";
    expect(bodies).toContain(content);
    expect(info?.etag).toBe(md5(content));
    expect(info?.size).toBe(Buffer.byteLength(content));
  });

  it("removes stale temp files but not fresh ones", async () => {
    const tmpDir = path.join(temp.dir, "uploads/tmp");
    await mkdir(tmpDir, { recursive: true });
    await writeFile(path.join(tmpDir, "old.part"), "x");
    await writeFile(path.join(tmpDir, "new.part"), "x");
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(path.join(tmpDir, "old.part"), old, old);
    expect(await store.removeStaleTempFiles(3600 * 1000)).toBe(1);
    expect(await listFiles(tmpDir)).toEqual(["new.part"]);
  });

  it("pings a writable folder and fails on an unwritable one", async () => {
    await store.ping();
    await writeFile(path.join(temp.dir, "not-a-dir"), "");
    const broken = createStore({
      backend: "fs",
      bucket: "uploads",
      rootDir: path.join(temp.dir, "not-a-dir"),
      publicUrl: "http://x",
      accessKeyId: "K",
      secretAccessKey: SECRET,
    });
    await expect(broken.ping()).rejects.toThrow();
  });
});

describe("FsStore presigning", () => {
  it("returns an upload form for <publicUrl>/fs/<bucket> pinning the prefixed key", async () => {
    const config = fsStore("config/");
    const post = await config.presignPost({ key: "ROBOT-1/a.json", contentType: "application/json", maxBytes: 1024, expiresIn: 300 });
    expect(post.url).toBe("http://127.0.0.1:9000/fs/uploads");
    expect(post.expiresIn).toBe(300);
    expect(post.fields.key).toBe("config/ROBOT-1/a.json");
    expect(Object.keys(post.fields)).toEqual([
      "key",
      "Content-Type",
      "policy",
      "x-amz-algorithm",
      "x-amz-credential",
      "x-amz-date",
      "x-amz-signature",
    ]);
  });

  it("signs download URLs with an RFC 6266 Content-Disposition that verify", async () => {
    const url = await store.presignGet({
      key: "logs/système 1.log",
      expiresIn: 60,
      downloadName: "système 1.log",
      contentType: "text/plain",
    });
    const parsed = new URL(url);
    expect(parsed.pathname).toBe("/fs/uploads/logs/syst%C3%A8me%201.log");
    expect(parsed.searchParams.get("response-content-disposition")).toBe(
      "attachment; filename=\"syst_me 1.log\"; filename*=UTF-8''syst%C3%A8me%201.log",
    );
    const verified = verifyPresignedUrl({
      methods: ["GET"],
      path: decodeURIComponent(parsed.pathname),
      query: parseQueryString(url.slice(url.indexOf("?") + 1)),
      headers: { host: parsed.host },
      lookupCredentials: () => ({ secretAccessKey: SECRET, region: "us-east-1" }),
    });
    expect(verified.overrides["response-content-type"]).toBe("text/plain");
    expect((await stat(temp.dir)).isDirectory()).toBe(true);
  });
});

describe("fs multipart completion cut off by a crash", () => {
  it("completing again after the rename, before the upload folder was removed, answers the object", async () => {
    const temp = await makeTempDir("fs-multipart-crash");
    try {
      const store = createStore({
        backend: "fs",
        bucket: "crash-test",
        rootDir: temp.dir,
        publicUrl: "http://127.0.0.1:9",
        accessKeyId: "FLEETDROPTESTKEY",
        secretAccessKey: "fleetdrop-test-secret-0123456789",
      });
      const size = 5 * 1024 * 1024 + 10;
      const { uploadId } = await store.createMultipart({ key: "a/b.bin", contentType: "text/plain", size, partSize: 5 * 1024 * 1024 });
      const bytes = Buffer.alloc(size, 7);
      const parts = [
        await store.multipart.writePart("a/b.bin", uploadId, 1, [bytes.subarray(0, 5 * 1024 * 1024)]),
        await store.multipart.writePart("a/b.bin", uploadId, 2, [bytes.subarray(5 * 1024 * 1024)]),
      ];
      const dir = path.join(temp.dir, "crash-test", "multipart", uploadId);
      // The crash: the object is in place (commit renamed `data`), the upload folder still there.
      const etag = multipartEtag(parts);
      await store.files.commit(path.join(dir, "data"), "a/b.bin", { size, etag, contentType: "text/plain" });
      const info = await store.completeMultipart("a/b.bin", uploadId, parts);
      expect(info).toMatchObject({ key: "a/b.bin", size, etag });
      await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
      // And once more, with the folder gone too.
      expect(await store.completeMultipart("a/b.bin", uploadId, parts)).toMatchObject({ size, etag });
      // A part of the wrong length is refused before it is recorded.
      const other = await store.createMultipart({ key: "c.bin", contentType: "text/plain", size, partSize: 5 * 1024 * 1024 });
      await expect(store.multipart.writePart("c.bin", other.uploadId, 2, [Buffer.alloc(11)])).rejects.toBeInstanceOf(PartSizeError);
      await expect(store.multipart.writePart("c.bin", other.uploadId, 3, [Buffer.alloc(1)])).rejects.toBeInstanceOf(PartSizeError);
      expect(await store.listParts("c.bin", other.uploadId)).toEqual([]);
    } finally {
      await temp.remove();
    }
  });
});
