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
import { InvalidObjectKeyError, RangeNotSatisfiableError } from "../store";
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
};

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
          /** POSTs `fields` and `file` to the store's form URL; asserts that `x.bin` was not stored. */
          async function refused(store: Store, url: string, fields: Record<string, string>, file: Buffer) {
            const result = await postMultipart(url, multipartBody(formParts(fields, file)));
            expect(await store.head("x.bin")).toBeNull();
            return result;
          }

          it("refuses a file over content-length-range (400 EntityTooLarge) and stores nothing", async () => {
            const store = fresh();
            const post = await store.presignPost({ key: "x.bin", contentType: "application/octet-stream", maxBytes: 100, expiresIn: 60 });
            const result = await refused(store, post.url, post.fields, randomBytes(101));
            expect([result.status, errorCode(result)]).toEqual([400, "EntityTooLarge"]);
          });

          it("refuses another key, another Content-Type or an unsigned field (403 AccessDenied)", async () => {
            const store = fresh();
            const post = await store.presignPost({ key: "x.bin", contentType: "application/octet-stream", maxBytes: 100, expiresIn: 60 });
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
            const store = fresh();
            const post = await store.presignPost({ key: "x.bin", contentType: "application/octet-stream", maxBytes: 100, expiresIn: 60 });
            const result = await refused(store, post.url, { ...post.fields, "x-amz-signature": "0".repeat(64) }, Buffer.from("data"));
            expect([result.status, errorCode(result)]).toEqual([403, "SignatureDoesNotMatch"]);
          });

          it("refuses an expired form (403 AccessDenied, Policy expired)", async () => {
            const store = fresh();
            const post = await store.presignPost({ key: "x.bin", contentType: "application/octet-stream", maxBytes: 100, expiresIn: 60 });
            const expired = createPostForm({
              bucket: store.bucket,
              key: `${store.prefix}x.bin`,
              contentType: "application/octet-stream",
              maxBytes: 100,
              expiresIn: 60,
              region: harness.credentials.region,
              credentials: { accessKeyId: harness.credentials.accessKeyId, secretAccessKey: harness.credentials.secretAccessKey },
              now: new Date(Date.now() - 3600 * 1000),
            });
            const result = await refused(store, post.url, expired.fields, Buffer.from("x"));
            expect([result.status, errorCode(result)]).toEqual([403, "AccessDenied"]);
            expect(result.body.toString()).toContain("Policy expired");
          });

          it("refuses a form signed with an unknown access key (403 InvalidAccessKeyId)", async () => {
            const store = fresh();
            const post = await store.presignPost({ key: "x.bin", contentType: "application/octet-stream", maxBytes: 100, expiresIn: 60 });
            const foreign = createPostForm({
              bucket: store.bucket,
              key: `${store.prefix}x.bin`,
              contentType: "application/octet-stream",
              maxBytes: 100,
              expiresIn: 60,
              region: harness.credentials.region,
              credentials: { accessKeyId: "SOMEONEELSE", secretAccessKey: harness.credentials.secretAccessKey },
            });
            const result = await refused(store, post.url, foreign.fields, Buffer.from("x"));
            expect([result.status, errorCode(result)]).toEqual([403, "InvalidAccessKeyId"]);
          });
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

    describe("ping", () => {
      it("succeeds while storage is reachable", async () => {
        await fresh().ping();
      });
    });
  });
}
