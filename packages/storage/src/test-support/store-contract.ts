/**
 * The Store contract: one suite that every backend runs, so that what a device and the
 * services see cannot depend on the backend (tests only; in the spirit of mqtt.js's
 * abstract_store tests).
 *
 * A backend registers it with a factory. What a backend cannot do is a capability of its
 * factory: cases that need it are not registered for that backend at all, and the factory says
 * what is checked in their place.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer, text } from "node:stream/consumers";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createPostForm, verifyPostForm } from "../post-policy";
import { InvalidObjectKeyError, InvalidPartError, MULTIPART_LIMITS, NoSuchUploadError, RangeNotSatisfiableError } from "../store";
import type { Store } from "../store";
import { errorCode, postMultipart, request } from "./http-client";
import { formParts, multipartBody } from "./multipart";

export type TStoreHarness = {
  /** A store over the harness's bucket with this prefix (`""` or ending in `/`). */
  store(prefix: string): Store;
  /** What the backend's credentials are, to sign forms the store itself would not make. */
  credentials: { accessKeyId: string; secretAccessKey: string; region: string };
  stop(): Promise<void>;
};

export type TStoreFactory = {
  name: string;
  start(): Promise<TStoreHarness>;
  /**
   * The POST endpoint refuses forms that break their signed policy (oversize, another key or
   * Content-Type, expired, bad signature). When false (no S3 emulator enforces policies), those
   * cases are not registered; the policy's contents are checked against S3's rules instead.
   */
  enforcesPostPolicy: boolean;
  /**
   * `list` returns keys in UTF-8 byte order, as S3 does (`a-c` < `a.txt` < `a/b`). s3rver walks
   * its folders depth first instead (`a/b` < `a-c`) and the S3 store passes its order on, so
   * against s3rver only the set of keys a prefix selects (and paging) is checked.
   */
  listsInUtf8ByteOrder: boolean;
  /**
   * ListParts, AbortMultipartUpload, ListMultipartUploads and S3's part checks at completion.
   * s3rver implements only create, UploadPart and complete, so against it those cases are not
   * registered; the S3 store's requests for them are checked in s3-store.test.ts.
   */
  fullMultipart: boolean;
  /**
   * A form's SHA-256 checksum fields are honoured: a file with another digest is refused (400
   * BadDigest) and nothing is stored, and `head` reports the SHA-256 of every object POSTed.
   * s3rver ignores checksum fields and reports no digest: against it the form's fields and policy
   * are checked instead (the worker hashes what such a store holds).
   */
  verifiesChecksums: boolean;
};

function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function md5(data: Buffer | string): string {
  return `"${createHash("md5").update(data).digest("hex")}"`;
}

export function describeStoreContract(factory: TStoreFactory): void {
  describe(`Store contract: ${factory.name}`, () => {
    let harness: TStoreHarness;
    let namespaces = 0;
    /** A store of its own for each test (a fresh prefix), so tests do not see each other's objects. */
    const fresh = (): Store => harness.store(`contract-${++namespaces}/`);

    beforeAll(async () => {
      harness = await factory.start();
    });
    afterAll(async () => {
      await harness?.stop();
    });

    describe("presignPost", () => {
      it("makes a form that a device's multipart POST (fields, then the file) stores under the pinned key", async () => {
        const store = fresh();
        const key = "sessions/ROBOT-ABC123/123/image_001.jpg";
        const post = await store.presignPost({ key, contentType: "image/jpeg", maxBytes: 1024 * 1024, expiresIn: 600 });
        expect(post.expiresIn).toBe(600);
        expect(post.fields.key).toBe(`${store.prefix}${key}`);
        expect(Object.keys(post.fields)).toEqual([
          "key",
          "Content-Type",
          "policy",
          "x-amz-algorithm",
          "x-amz-credential",
          "x-amz-date",
          "x-amz-signature",
        ]);
        const file = randomBytes(150_000);
        const result = await postMultipart(post.url, multipartBody(formParts(post.fields, file, "image_001.jpg", "image/jpeg")));
        expect(result.status, result.body.toString()).toBe(204);
        expect(result.headers.etag).toBe(md5(file));
        expect(await store.head(key)).toMatchObject({ key, size: file.length, etag: md5(file), contentType: "image/jpeg" });
        const opened = await store.open(key);
        expect(opened && (await buffer(opened.body))).toEqual(file);
      });

      it("stores a file exactly at the limit and an empty file", async () => {
        const store = fresh();
        const post = await store.presignPost({ key: "k.bin", contentType: "application/octet-stream", maxBytes: 1000, expiresIn: 60 });
        expect((await postMultipart(post.url, multipartBody(formParts(post.fields, randomBytes(1000))))).status).toBe(204);
        expect((await store.head("k.bin"))?.size).toBe(1000);
        expect((await postMultipart(post.url, multipartBody(formParts(post.fields, Buffer.alloc(0))))).status).toBe(204);
        expect((await store.head("k.bin"))?.size).toBe(0);
      });

      it("signs a policy that pins bucket, exact key, Content-Type and [0, maxBytes], and passes S3's rules", async () => {
        const store = fresh();
        const post = await store.presignPost({ key: "a/b.txt", contentType: "text/plain", maxBytes: 100, expiresIn: 60 });
        const policy = JSON.parse(Buffer.from(post.fields.policy as string, "base64").toString("utf8")) as {
          expiration: string;
          conditions: unknown[];
        };
        expect(policy.conditions).toContainEqual({ bucket: store.bucket });
        expect(policy.conditions).toContainEqual({ key: `${store.prefix}a/b.txt` });
        expect(policy.conditions).toContainEqual({ "Content-Type": "text/plain" });
        expect(policy.conditions).toContainEqual(["content-length-range", 0, 100]);
        expect(policy.conditions.filter((condition) => Array.isArray(condition) && condition[0] === "starts-with")).toEqual([]);
        expect(Date.parse(policy.expiration)).toBeLessThanOrEqual(Date.now() + 60_000);
        const rules = {
          bucket: store.bucket,
          lookupCredentials: (accessKeyId: string) =>
            accessKeyId === harness.credentials.accessKeyId
              ? { secretAccessKey: harness.credentials.secretAccessKey, region: harness.credentials.region }
              : undefined,
        };
        expect(verifyPostForm({ ...rules, fields: Object.entries(post.fields) })).toMatchObject({
          key: `${store.prefix}a/b.txt`,
          contentType: "text/plain",
          contentLength: { min: 0, max: 100 },
        });
        expect(() => verifyPostForm({ ...rules, fields: Object.entries({ ...post.fields, key: `${store.prefix}a/c.txt` }) })).toThrow(
          /Policy Condition failed/,
        );
        expect(() => verifyPostForm({ ...rules, fields: Object.entries({ ...post.fields, "Content-Type": "text/html" }) })).toThrow(
          /Policy Condition failed/,
        );
      });

      it("refuses keys S3 would not pin, and bad inputs", async () => {
        const store = fresh();
        for (const key of ["a/${filename}", "../x", "a/../b", ""]) {
          await expect(store.presignPost({ key, contentType: "text/plain", maxBytes: 1, expiresIn: 60 }), key).rejects.toBeInstanceOf(
            InvalidObjectKeyError,
          );
        }
        const input = { key: "k", contentType: "text/plain", maxBytes: 1, expiresIn: 60 };
        await expect(store.presignPost({ ...input, expiresIn: 604_801 })).rejects.toThrow(/expiresIn/);
        await expect(store.presignPost({ ...input, expiresIn: 0 })).rejects.toThrow(/expiresIn/);
        await expect(store.presignPost({ ...input, contentType: "nonsense" })).rejects.toThrow(/contentType/);
        await expect(store.presignPost({ ...input, maxBytes: -1 })).rejects.toThrow(/maxBytes/);
        await expect(store.presignPost({ ...input, maxBytes: 6 * 1024 ** 3 })).rejects.toThrow(/5 GiB/);
      });

      if (factory.enforcesPostPolicy) {
        describe("policy enforcement", () => {
          const X_FORM = { key: "x.bin", contentType: "application/octet-stream", maxBytes: 100, expiresIn: 60 };

          /** A fresh store and its form for `x.bin`: at most 100 bytes, valid for a minute. */
          async function xForm() {
            const store = fresh();
            return { store, post: await store.presignPost(X_FORM) };
          }

          /** The same form for `x.bin`, but signed here: with another access key, or at another time. */
          function forgedForm(store: Store, forged: { accessKeyId?: string; now?: Date }) {
            return createPostForm({
              ...X_FORM,
              bucket: store.bucket,
              key: `${store.prefix}x.bin`,
              region: harness.credentials.region,
              credentials: {
                accessKeyId: forged.accessKeyId ?? harness.credentials.accessKeyId,
                secretAccessKey: harness.credentials.secretAccessKey,
              },
              now: forged.now,
            });
          }

          /** POSTs `fields` and `file` to the store's form URL; asserts that `x.bin` was not stored. */
          async function refused(store: Store, url: string, fields: Record<string, string>, file: Buffer) {
            const result = await postMultipart(url, multipartBody(formParts(fields, file)));
            expect(await store.head("x.bin")).toBeNull();
            return result;
          }

          it("refuses a file over content-length-range (400 EntityTooLarge) and stores nothing", async () => {
            const { store, post } = await xForm();
            const result = await refused(store, post.url, post.fields, randomBytes(101));
            expect([result.status, errorCode(result)]).toEqual([400, "EntityTooLarge"]);
          });

          it("refuses another key, another Content-Type or an unsigned field (403 AccessDenied)", async () => {
            const { store, post } = await xForm();
            for (const fields of [
              { ...post.fields, key: `${store.prefix}y.bin` },
              { ...post.fields, "Content-Type": "text/html" },
              { ...post.fields, "x-amz-meta-extra": "unsigned" },
            ]) {
              const result = await refused(store, post.url, fields, Buffer.from("data"));
              expect([result.status, errorCode(result)]).toEqual([403, "AccessDenied"]);
            }
            expect(await store.head("y.bin")).toBeNull();
          });

          it("refuses a bad signature (403 SignatureDoesNotMatch)", async () => {
            const { store, post } = await xForm();
            const result = await refused(store, post.url, { ...post.fields, "x-amz-signature": "0".repeat(64) }, Buffer.from("data"));
            expect([result.status, errorCode(result)]).toEqual([403, "SignatureDoesNotMatch"]);
          });

          it("refuses an expired form (403 AccessDenied, Policy expired)", async () => {
            const { store, post } = await xForm();
            const expired = forgedForm(store, { now: new Date(Date.now() - 3600 * 1000) });
            const result = await refused(store, post.url, expired.fields, Buffer.from("x"));
            expect([result.status, errorCode(result)]).toEqual([403, "AccessDenied"]);
            expect(result.body.toString()).toContain("Policy expired");
          });

          it("refuses a form signed with an unknown access key (403 InvalidAccessKeyId)", async () => {
            const { store, post } = await xForm();
            const foreign = forgedForm(store, { accessKeyId: "SOMEONEELSE" });
            const result = await refused(store, post.url, foreign.fields, Buffer.from("x"));
            expect([result.status, errorCode(result)]).toEqual([403, "InvalidAccessKeyId"]);
          });
        });
      }
    });

    describe("presignPost with a SHA-256", () => {
      const rules = () => ({
        bucket: "",
        lookupCredentials: (accessKeyId: string) =>
          accessKeyId === harness.credentials.accessKeyId
            ? { secretAccessKey: harness.credentials.secretAccessKey, region: harness.credentials.region }
            : undefined,
      });

      it("adds x-amz-checksum-algorithm and x-amz-checksum-sha256 (base64), each pinned by the policy", async () => {
        const store = fresh();
        const file = randomBytes(5000);
        const digest = sha256Hex(file);
        const post = await store.presignPost({
          key: "c.bin",
          contentType: "application/octet-stream",
          maxBytes: 10_000,
          expiresIn: 60,
          sha256: digest,
        });
        const base64 = Buffer.from(digest, "hex").toString("base64");
        expect(post.fields).toMatchObject({ "x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": base64 });
        expect(Object.keys(post.fields).at(-1)).toBe("x-amz-signature");
        const policy = JSON.parse(Buffer.from(post.fields.policy as string, "base64").toString("utf8")) as { conditions: unknown[] };
        expect(policy.conditions).toContainEqual({ "x-amz-checksum-algorithm": "SHA256" });
        expect(policy.conditions).toContainEqual({ "x-amz-checksum-sha256": base64 });
        const verify = (fields: Record<string, string>) =>
          verifyPostForm({ ...rules(), bucket: store.bucket, fields: Object.entries(fields) });
        expect(verify(post.fields).key).toBe(`${store.prefix}c.bin`);
        // A device cannot swap the digest, or drop it, without breaking the policy.
        const other = Buffer.from(sha256Hex("other"), "hex").toString("base64");
        expect(() => verify({ ...post.fields, "x-amz-checksum-sha256": other })).toThrow(/Policy Condition failed/);
        const { ["x-amz-checksum-sha256"]: _dropped, ...withoutDigest } = post.fields;
        expect(() => verify(withoutDigest)).toThrow(/Policy Condition failed/);
      });

      it("stores a file with the form's digest", async () => {
        const store = fresh();
        const file = randomBytes(70_000);
        const post = await store.presignPost({
          key: "ok.bin",
          contentType: "application/octet-stream",
          maxBytes: 100_000,
          expiresIn: 60,
          sha256: sha256Hex(file),
        });
        const result = await postMultipart(post.url, multipartBody(formParts(post.fields, file)));
        expect(result.status, result.body.toString()).toBe(204);
        const info = await store.head("ok.bin");
        expect(info).toMatchObject({ size: file.length, etag: md5(file) });
        if (factory.verifiesChecksums) expect(info?.sha256).toBe(sha256Hex(file));
        const opened = await store.open("ok.bin");
        expect(opened && (await buffer(opened.body))).toEqual(file);
      });

      it("reports the SHA-256 of an object posted without a digest (or none: never a wrong one)", async () => {
        const store = fresh();
        const file = randomBytes(30_000);
        const post = await store.presignPost({
          key: "plain.bin",
          contentType: "application/octet-stream",
          maxBytes: 100_000,
          expiresIn: 60,
        });
        expect(Object.keys(post.fields).filter((name) => name.startsWith("x-amz-checksum"))).toEqual([]);
        expect((await postMultipart(post.url, multipartBody(formParts(post.fields, file)))).status).toBe(204);
        const info = await store.head("plain.bin");
        if (factory.verifiesChecksums) expect(info?.sha256).toBe(sha256Hex(file));
        else expect([undefined, sha256Hex(file)]).toContain(info?.sha256);
      });

      it("refuses a sha256 that is not 64 lower-case hex digits", async () => {
        const store = fresh();
        const input = { key: "k", contentType: "text/plain", maxBytes: 1, expiresIn: 60 };
        for (const sha256 of ["", "abc", "A".repeat(64), "g".repeat(64), "a".repeat(65)]) {
          await expect(store.presignPost({ ...input, sha256 }), sha256).rejects.toThrow(/sha256/);
        }
      });

      if (factory.verifiesChecksums) {
        it("refuses a file whose SHA-256 is not the form's (400 BadDigest) and keeps nothing of it", async () => {
          const store = fresh();
          const kept = await store.put("x.bin", "the object before", { contentType: "application/octet-stream" });
          const meant = randomBytes(40_000);
          const post = await store.presignPost({
            key: "x.bin",
            contentType: "application/octet-stream",
            maxBytes: 100_000,
            expiresIn: 60,
            sha256: sha256Hex(meant),
          });
          const sent = Buffer.from(meant);
          sent[12_345] = (sent[12_345] ?? 0) ^ 1;
          const result = await postMultipart(post.url, multipartBody(formParts(post.fields, sent)));
          expect([result.status, errorCode(result)]).toEqual([400, "BadDigest"]);
          expect(await store.head("x.bin")).toEqual(kept);
          await store.delete("x.bin");
          const again = await postMultipart(post.url, multipartBody(formParts(post.fields, randomBytes(10))));
          expect([again.status, errorCode(again)]).toEqual([400, "BadDigest"]);
          expect(await store.head("x.bin")).toBeNull();
        });
      }
    });

    describe("put, head, open, delete", () => {
      it("puts strings, bytes and streams of unknown length, with MD5 ETags, and replaces an object", async () => {
        const store = fresh();
        const fromString = await store.put("rt/string.txt", "hello store", { contentType: "text/plain" });
        expect(fromString).toMatchObject({ key: "rt/string.txt", size: 11, etag: md5("hello store"), contentType: "text/plain" });
        expect(fromString.lastModified.getTime()).toBeGreaterThan(Date.now() - 60_000);
        expect(await store.head("rt/string.txt")).toEqual(fromString);

        const bytes = randomBytes(10_000);
        expect(await store.put("rt/bytes.bin", bytes, { contentType: "application/octet-stream" })).toMatchObject({
          size: 10_000,
          etag: md5(bytes),
        });

        const chunks = Array.from({ length: 20 }, () => randomBytes(64 * 1024));
        const streamed = await store.put("rt/stream.bin", Readable.from(chunks), { contentType: "application/x-test" });
        expect(streamed).toMatchObject({ size: 20 * 64 * 1024, etag: md5(Buffer.concat(chunks)), contentType: "application/x-test" });
        const opened = await store.open("rt/stream.bin");
        expect(opened?.info).toMatchObject({ size: 20 * 64 * 1024, contentType: "application/x-test" });
        expect(opened?.range).toBeUndefined();
        expect(opened && (await buffer(opened.body))).toEqual(Buffer.concat(chunks));

        const replaced = await store.put("rt/string.txt", "replaced", { contentType: "text/x-new" });
        expect(replaced).toMatchObject({ size: 8, etag: md5("replaced"), contentType: "text/x-new" });
        const reopened = await store.open("rt/string.txt");
        expect(reopened && (await text(reopened.body))).toBe("replaced");
      });

      it("deletes, and a missing key is null for head and open and no error for delete", async () => {
        const store = fresh();
        await store.put("gone.txt", "x", { contentType: "text/plain" });
        await store.delete("gone.txt");
        expect(await store.head("gone.txt")).toBeNull();
        expect(await store.open("gone.txt")).toBeNull();
        expect(await store.open("gone.txt", { range: { start: 0, end: 1 } })).toBeNull();
        await store.delete("gone.txt");
        await store.delete("never/was.txt");
        expect(await store.head("never/was.txt")).toBeNull();
      });

      it("opens inclusive byte ranges with the whole object's info, clamps the end, refuses a start past the end", async () => {
        const store = fresh();
        await store.put("r.txt", "0123456789", { contentType: "text/plain" });
        const middle = await store.open("r.txt", { range: { start: 2, end: 5 } });
        expect(middle?.range).toEqual({ start: 2, end: 5 });
        expect(middle?.info).toMatchObject({ size: 10, etag: md5("0123456789"), contentType: "text/plain" });
        expect(middle && (await text(middle.body))).toBe("2345");
        const tail = await store.open("r.txt", { range: { start: 7, end: 100 } });
        expect(tail?.range).toEqual({ start: 7, end: 9 });
        expect(tail && (await text(tail.body))).toBe("789");
        const open = await store.open("r.txt", { range: { start: 6 } });
        expect(open && (await text(open.body))).toBe("6789");
        await expect(store.open("r.txt", { range: { start: 10 } })).rejects.toBeInstanceOf(RangeNotSatisfiableError);
        await expect(store.open("r.txt", { range: { start: 10 } })).rejects.toMatchObject({ size: 10 });
        await expect(store.open("r.txt", { range: { start: 5, end: 2 } })).rejects.toThrow(/0 <= start <= end/);
        await expect(store.open("r.txt", { range: { start: -1 } })).rejects.toThrow(/0 <= start <= end/);
      });

      it("refuses keys that are not plain relative paths, for every operation", async () => {
        const store = fresh();
        for (const key of ["", "/etc/passwd", "../escape", "a/../../escape", "a/./b", "a//b", "a/", "a\\b", "nul\u0000byte"]) {
          const label = JSON.stringify(key);
          await expect(store.put(key, "x", { contentType: "text/plain" }), label).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.head(key), label).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.open(key), label).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.delete(key), label).rejects.toBeInstanceOf(InvalidObjectKeyError);
          await expect(store.presignGet({ key, expiresIn: 60 }), label).rejects.toBeInstanceOf(InvalidObjectKeyError);
        }
        expect((await store.list("")).objects).toEqual([]);
      });

      it("keeps keys under the store's prefix and returns them without it", async () => {
        const outer = fresh();
        const inner = harness.store(`${outer.prefix}config/`);
        const info = await inner.put("ROBOT-1/settings.json", "{}", { contentType: "application/json" });
        expect(info.key).toBe("ROBOT-1/settings.json");
        expect(await outer.head("config/ROBOT-1/settings.json")).toMatchObject({ key: "config/ROBOT-1/settings.json", size: 2 });
        expect((await inner.list("")).objects.map((object) => object.key)).toEqual(["ROBOT-1/settings.json"]);
        expect((await outer.list("")).objects.map((object) => object.key)).toEqual(["config/ROBOT-1/settings.json"]);
      });
    });

    describe("list", () => {
      // Written out of order; "a-c" < "a.txt" < "a/..." because "-" < "." < "/" in bytes.
      const keys = ["a/b/c", "a-c", "b", "é", "z", "A", "a.txt", "a/d"];
      const byteOrder = (list: string[]) => list.slice().sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

      it("lists the objects a prefix selects, with their info", async () => {
        const store = fresh();
        for (const key of keys) await store.put(key, key, { contentType: "text/plain" });
        const all = await store.list("");
        expect(byteOrder(all.objects.map((object) => object.key))).toEqual(["A", "a-c", "a.txt", "a/b/c", "a/d", "b", "z", "é"]);
        expect(all.nextToken).toBeUndefined();
        expect(all.objects.find((object) => object.key === "é")).toMatchObject({ size: 2, etag: md5("é") });
        expect(byteOrder((await store.list("a/")).objects.map((object) => object.key))).toEqual(["a/b/c", "a/d"]);
        expect(byteOrder((await store.list("a")).objects.map((object) => object.key))).toEqual(["a-c", "a.txt", "a/b/c", "a/d"]);
        expect((await store.list("a/b/c")).objects.map((object) => object.key)).toEqual(["a/b/c"]);
        expect((await store.list("nothing/")).objects).toEqual([]);
        expect((await store.list("a/d/")).objects).toEqual([]); // under an object, not a folder
        await expect(store.list("../")).rejects.toThrow();
      });

      if (factory.listsInUtf8ByteOrder) {
        it("lists in UTF-8 byte order of the keys, a folder sorting as name/", async () => {
          const store = fresh();
          for (const key of keys) await store.put(key, key, { contentType: "text/plain" });
          expect((await store.list("")).objects.map((object) => object.key)).toEqual(["A", "a-c", "a.txt", "a/b/c", "a/d", "b", "z", "é"]);
          expect((await store.list("a")).objects.map((object) => object.key)).toEqual(["a-c", "a.txt", "a/b/c", "a/d"]);
        });
      }

      it("pages with a continuation token until the end, each page at most `limit` long", async () => {
        const store = fresh();
        const keys = Array.from({ length: 23 }, (_, i) => `sessions/D/1/f${String(i).padStart(2, "0")}`);
        for (const key of keys.slice().reverse()) await store.put(key, key, { contentType: "text/plain" });
        await store.put("sessions/D/2/other", "x", { contentType: "text/plain" });
        const seen: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await store.list("sessions/D/1/", { limit: 10, ...(token ? { continuationToken: token } : {}) });
          expect(page.objects.length).toBeLessThanOrEqual(10);
          seen.push(...page.objects.map((object) => object.key));
          token = page.nextToken;
          pages++;
        } while (token);
        expect(seen).toEqual(keys);
        expect(pages).toBe(3);
        await expect(store.list("", { limit: 0 })).rejects.toThrow(/limit/);
        await expect(store.list("", { limit: 1001 })).rejects.toThrow(/limit/);
      });
    });

    describe("presignGet", () => {
      it("signs a URL that a plain GET downloads, with the object's type and the asked overrides", async () => {
        const store = fresh();
        await store.put("dl/report.txt", "report body", { contentType: "text/plain" });
        const plain = await request(await store.presignGet({ key: "dl/report.txt", expiresIn: 60 }));
        expect(plain.status, plain.body.toString()).toBe(200);
        expect(plain.body.toString()).toBe("report body");
        expect(plain.headers["content-type"]).toBe("text/plain");
        expect(plain.headers.etag).toBe(md5("report body"));

        const url = await store.presignGet({ key: "dl/report.txt", expiresIn: 60, disposition: "inline", contentType: "text/x-report" });
        const overridden = await request(url);
        expect(overridden.status).toBe(200);
        expect(overridden.headers["content-disposition"]).toBe("inline");
        expect(overridden.headers["content-type"]).toBe("text/x-report");

        const ranged = await request(url, { headers: { Range: "bytes=7-10" } });
        expect([ranged.status, ranged.body.toString(), ranged.headers["content-range"]]).toEqual([206, "body", "bytes 7-10/11"]);
      });

      it("refuses a URL whose key was changed (403) and answers 404 NoSuchKey for a missing object", async () => {
        const store = fresh();
        await store.put("dl/a.txt", "a", { contentType: "text/plain" });
        await store.put("dl/b.txt", "b", { contentType: "text/plain" });
        const url = await store.presignGet({ key: "dl/a.txt", expiresIn: 60 });
        const tampered = await request(url.replace("a.txt", "b.txt"));
        expect([tampered.status, errorCode(tampered)]).toEqual([403, "SignatureDoesNotMatch"]);
        const missing = await request(await store.presignGet({ key: "dl/missing.txt", expiresIn: 60 }));
        expect([missing.status, errorCode(missing)]).toEqual([404, "NoSuchKey"]);
      });

      // Only the signed parameter: s3rver refuses these URLs (see s3rver.ts), S3 and the fs
      // endpoint serve them (fs-upload-endpoint.integration.test.ts).
      it("puts a download name in an RFC 6266 Content-Disposition", async () => {
        const store = fresh();
        const url = new URL(await store.presignGet({ key: "dl/report.txt", expiresIn: 60, downloadName: "rapport été.txt" }));
        expect(url.searchParams.get("response-content-disposition")).toBe(
          "attachment; filename=\"rapport _t_.txt\"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.txt",
        );
        await expect(store.presignGet({ key: "k", expiresIn: 700_000 })).rejects.toThrow(/expiresIn/);
      });
    });

    describe("multipart", () => {
      const MIB = 1024 * 1024;
      const partSize = 5 * MIB;
      /** Three parts: two whole ones and a short last one. */
      const content = randomBytes(2 * partSize + 1234);
      const partOf = (n: number) => content.subarray((n - 1) * partSize, Math.min(n * partSize, content.length));
      const putPart = async (store: Store, key: string, uploadId: string, n: number, body = partOf(n)) => {
        const url = await store.presignPart({ key, uploadId, partNumber: n, expiresIn: 600 });
        return request(url, { method: "PUT", headers: { "Content-Length": body.length }, body });
      };

      it("stores parts PUT in parallel and out of order to presigned URLs, and completes them into the object", async () => {
        const store = fresh();
        const key = "sessions/ROBOT-ABC123/7/video.mp4";
        const { uploadId } = await store.createMultipart({ key, contentType: "video/mp4", size: content.length, partSize });
        const answers = await Promise.all([3, 1, 2].map((n) => putPart(store, key, uploadId, n)));
        for (const answer of answers) expect(answer.status, answer.body.toString()).toBe(200);
        const etags = new Map([3, 1, 2].map((n, index) => [n, answers[index]!.headers.etag as string]));
        const info = await store.completeMultipart(
          key,
          uploadId,
          [1, 2, 3].map((n) => ({ partNumber: n, etag: etags.get(n)! })),
        );
        expect(info.size).toBe(content.length);
        // S3 gives "md5-of-part-md5s-3"; s3rver an MD5 of the bytes: only its presence is the contract.
        expect(info.etag).toMatch(/^".+"$/);
        const opened = await store.open(key);
        expect(
          createHash("sha256")
            .update(await buffer(opened!.body))
            .digest("hex"),
        ).toBe(createHash("sha256").update(content).digest("hex"));
        expect((await store.head(key))?.size).toBe(content.length);
      });

      it("refuses a part URL altered to another part number (403) and part numbers out of range", async () => {
        const store = fresh();
        const key = "a/b.bin";
        const { uploadId } = await store.createMultipart({ key, contentType: "application/octet-stream", size: content.length, partSize });
        const url = await store.presignPart({ key, uploadId, partNumber: 1, expiresIn: 600 });
        const forged = url.replace("partNumber=1", "partNumber=2");
        expect(forged).not.toBe(url);
        const answer = await request(forged, { method: "PUT", headers: { "Content-Length": 3 }, body: Buffer.from("abc") });
        expect(answer.status).toBe(403);
        await expect(store.presignPart({ key, uploadId, partNumber: 0, expiresIn: 600 })).rejects.toThrow(/partNumber/);
        await expect(store.presignPart({ key, uploadId, partNumber: MULTIPART_LIMITS.maxParts + 1, expiresIn: 600 })).rejects.toThrow(
          /partNumber/,
        );
      });

      it("refuses sizes and part sizes outside S3's limits", async () => {
        const store = fresh();
        const base = { key: "x.bin", contentType: "application/octet-stream" };
        await expect(store.createMultipart({ ...base, size: 10 * MIB, partSize: MIB })).rejects.toThrow(/partSize/);
        await expect(store.createMultipart({ ...base, size: 0, partSize })).rejects.toThrow(/size/);
        await expect(
          store.createMultipart({ ...base, size: MULTIPART_LIMITS.maxObjectSize + 1, partSize: 5 * 1024 * MIB }),
        ).rejects.toThrow(/size/);
        await expect(store.createMultipart({ ...base, size: 10_001 * partSize, partSize })).rejects.toThrow(/parts/);
      });

      if (factory.fullMultipart) {
        it("lists the parts held (after a device restarts) and completes once the missing ones are sent", async () => {
          const store = fresh();
          const key = "logs/big.log";
          const { uploadId } = await store.createMultipart({ key, contentType: "text/plain", size: content.length, partSize });
          expect((await putPart(store, key, uploadId, 2)).status).toBe(200);
          const held = await store.listParts(key, uploadId);
          expect(held.map((part) => [part.partNumber, part.size])).toEqual([[2, partSize]]);
          await expect(
            store.completeMultipart(key, uploadId, [
              { partNumber: 1, etag: held[0]!.etag },
              { partNumber: 2, etag: held[0]!.etag },
            ]),
          ).rejects.toBeInstanceOf(InvalidPartError);
          for (const n of [1, 3]) expect((await putPart(store, key, uploadId, n)).status).toBe(200);
          const parts = await store.listParts(key, uploadId);
          expect(parts.map((part) => part.partNumber)).toEqual([1, 2, 3]);
          expect(parts.map((part) => part.size)).toEqual([partSize, partSize, 1234]);
          expect((await store.listMultipartUploads("logs/")).map((upload) => upload.uploadId)).toEqual([uploadId]);
          const info = await store.completeMultipart(key, uploadId, parts);
          expect(info.size).toBe(content.length);
          expect(await store.listMultipartUploads("logs/")).toEqual([]);
          await expect(store.listParts(key, uploadId)).rejects.toBeInstanceOf(NoSuchUploadError);
          // A completed upload takes no more parts and cannot be completed again.
          expect(errorCode(await putPart(store, key, uploadId, 1))).toBe("NoSuchUpload");
        });

        it("aborts: the parts are dropped, the upload is gone, and aborting again is no error", async () => {
          const store = fresh();
          const key = "abort/me.bin";
          const { uploadId } = await store.createMultipart({
            key,
            contentType: "application/octet-stream",
            size: content.length,
            partSize,
          });
          expect((await putPart(store, key, uploadId, 1)).status).toBe(200);
          await store.abortMultipart(key, uploadId);
          await expect(store.listParts(key, uploadId)).rejects.toBeInstanceOf(NoSuchUploadError);
          await expect(store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: '"x"' }])).rejects.toBeInstanceOf(NoSuchUploadError);
          expect(await store.listMultipartUploads("abort/")).toEqual([]);
          expect(await store.head(key)).toBeNull();
          await store.abortMultipart(key, uploadId);
        });

        it("treats an upload id under another key as unknown", async () => {
          const store = fresh();
          const { uploadId } = await store.createMultipart({ key: "mine.bin", contentType: "text/plain", size: content.length, partSize });
          await expect(store.listParts("other.bin", uploadId)).rejects.toBeInstanceOf(NoSuchUploadError);
          await store.abortMultipart("other.bin", uploadId);
          expect(await store.listParts("mine.bin", uploadId)).toEqual([]);
        });
      }
    });

    describe("ping", () => {
      it("succeeds while storage is reachable", async () => {
        await fresh().ping();
      });
    });
  });
}
