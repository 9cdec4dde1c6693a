import { afterEach, describe, expect, it, vi } from "vitest";

import { createStore } from "./config";
import { memoiseEndpointPerBucket } from "./s3-client";
import { isNotFound, isUnavailable, toStorageError } from "./s3-errors";
import { normalizePostFields } from "./s3-store";
import type { S3Store } from "./s3-store";
import { InvalidPartError, NoSuchUploadError, StorageUnavailableError } from "./store";

const ACCESS_KEY = "AKIAFLEETDROPTEST";
const SECRET = "s3-test-secret-0123456789abcdef";
const stores: S3Store[] = [];

function s3Store(overrides: Record<string, unknown> = {}): S3Store {
  const store = createStore({
    backend: "s3",
    bucket: "fleet-uploads",
    region: "eu-west-1",
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET,
    ...overrides,
  });
  stores.push(store);
  return store;
}

afterEach(() => {
  for (const store of stores.splice(0)) store.destroy();
});

type TPolicy = { expiration: string; conditions: unknown[] };

function decodePolicy(fields: Record<string, string>): TPolicy {
  return JSON.parse(Buffer.from(fields.policy as string, "base64").toString("utf8")) as TPolicy;
}

describe("S3Store.presignPost (no emulator enforces policies, so their contents are checked here)", () => {
  it("pins the exact key, the Content-Type, [0, maxBytes], the bucket and the x-amz fields", async () => {
    const before = Date.now();
    const post = await s3Store().presignPost({
      key: "sessions/ROBOT-1/9/logs/system.log",
      contentType: "text/plain",
      maxBytes: 5 * 1024 * 1024,
      expiresIn: 3600,
    });
    const policy = decodePolicy(post.fields);
    expect(policy.conditions).toContainEqual({ key: "sessions/ROBOT-1/9/logs/system.log" });
    expect(policy.conditions).toContainEqual({ "Content-Type": "text/plain" });
    expect(policy.conditions).toContainEqual(["content-length-range", 0, 5 * 1024 * 1024]);
    expect(policy.conditions).toContainEqual({ bucket: "fleet-uploads" });
    expect(policy.conditions).toContainEqual({ "X-Amz-Algorithm": "AWS4-HMAC-SHA256" });
    expect(policy.conditions).toContainEqual({ "X-Amz-Credential": post.fields["x-amz-credential"] });
    expect(policy.conditions).toContainEqual({ "X-Amz-Date": post.fields["x-amz-date"] });
    // Nothing loosens the pins: no starts-with condition at all.
    expect(policy.conditions.filter((condition) => Array.isArray(condition) && condition[0] === "starts-with")).toEqual([]);
    const expiresAt = Date.parse(policy.expiration);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600 * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600 * 1000);
    expect(post.expiresIn).toBe(3600);
  });

  it("returns the protocol's field names (lower-case signature fields, no bucket) and S3's URL", async () => {
    const post = await s3Store().presignPost({ key: "k.bin", contentType: "application/octet-stream", maxBytes: 10, expiresIn: 60 });
    expect(post.url).toBe("https://fleet-uploads.s3.eu-west-1.amazonaws.com/");
    expect(Object.keys(post.fields)).toEqual([
      "key",
      "Content-Type",
      "policy",
      "x-amz-algorithm",
      "x-amz-credential",
      "x-amz-date",
      "x-amz-signature",
    ]);
    expect(post.fields["x-amz-credential"]).toMatch(new RegExp(`^${ACCESS_KEY}/\\d{8}/eu-west-1/s3/aws4_request$`));
  });

  it("adds the session token as a pinned field", async () => {
    const post = await s3Store({ sessionToken: "FwoGZXIvYXdzEJr" }).presignPost({
      key: "k",
      contentType: "text/plain",
      maxBytes: 1,
      expiresIn: 60,
    });
    expect(post.fields["x-amz-security-token"]).toBe("FwoGZXIvYXdzEJr");
    expect(decodePolicy(post.fields).conditions).toContainEqual({ "X-Amz-Security-Token": "FwoGZXIvYXdzEJr" });
  });

  it("applies the store prefix and uses path style for a custom endpoint", async () => {
    const store = s3Store({ endpoint: "http://127.0.0.1:4569", forcePathStyle: true, prefix: "incoming" });
    const post = await store.presignPost({ key: "ROBOT-1/a.json", contentType: "application/json", maxBytes: 1, expiresIn: 60 });
    expect(post.url).toBe("http://127.0.0.1:4569/fleet-uploads");
    expect(post.fields.key).toBe("incoming/ROBOT-1/a.json");
    expect(decodePolicy(post.fields).conditions).toContainEqual({ key: "incoming/ROBOT-1/a.json" });
  });

  it("resolves each bucket's endpoint once for presigning", () => {
    const resolve = vi.fn((params: { Bucket?: string }) => ({ url: new URL(`https://${params.Bucket ?? "none"}.example`) }));
    const memoised = memoiseEndpointPerBucket(resolve);
    for (let i = 0; i < 5; i++) expect(memoised({ Bucket: "a" }).url.host).toBe("a.example");
    memoised({ Bucket: "b" });
    memoised({});
    memoised({});
    expect(resolve.mock.calls.map(([params]) => params.Bucket)).toEqual(["a", "b", undefined, undefined]);
  });

  it("uses the memoised resolver on the presign client only", async () => {
    const store = s3Store();
    // Every client starts with the SDK's shared default resolver; only the presign one is wrapped.
    expect(store.clients.control.config.endpointProvider).toBe(store.clients.transfer.config.endpointProvider);
    expect(store.clients.presign.config.endpointProvider).not.toBe(store.clients.control.config.endpointProvider);
    const post = await store.presignPost({ key: "k", contentType: "text/plain", maxBytes: 1, expiresIn: 60 });
    expect(post.url).toBe("https://fleet-uploads.s3.eu-west-1.amazonaws.com/");
  });
});

describe("S3Store.presignGet", () => {
  it("signs a GET with an RFC 6266 Content-Disposition and Content-Type override", async () => {
    const url = new URL(
      await s3Store().presignGet({
        key: "logs/système.log",
        expiresIn: 300,
        downloadName: "système.log",
        disposition: "inline",
        contentType: "text/plain",
      }),
    );
    expect(url.host).toBe("fleet-uploads.s3.eu-west-1.amazonaws.com");
    expect(url.pathname).toBe("/logs/syst%C3%A8me.log");
    expect(url.searchParams.get("response-content-disposition")).toBe(
      "inline; filename=\"syst_me.log\"; filename*=UTF-8''syst%C3%A8me.log",
    );
    expect(url.searchParams.get("response-content-type")).toBe("text/plain");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
  });
});

describe("normalizePostFields", () => {
  it("renames the SDK's fields and drops bucket", () => {
    expect(
      normalizePostFields({
        "Content-Type": "image/jpeg",
        bucket: "b",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "c",
        "X-Amz-Date": "d",
        "X-Amz-Security-Token": "t",
        key: "k",
        Policy: "p",
        "X-Amz-Signature": "s",
      }),
    ).toEqual({
      key: "k",
      "Content-Type": "image/jpeg",
      policy: "p",
      "x-amz-algorithm": "AWS4-HMAC-SHA256",
      "x-amz-credential": "c",
      "x-amz-date": "d",
      "x-amz-security-token": "t",
      "x-amz-signature": "s",
    });
  });
});

describe("S3 error classification", () => {
  const sdkError = (name: string, status?: number) =>
    Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

  it("treats network failures, timeouts, throttling and 5xx as unavailable", () => {
    expect(isUnavailable(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isUnavailable(sdkError("TimeoutError"))).toBe(true);
    expect(isUnavailable(sdkError("SlowDown", 503))).toBe(true);
    expect(isUnavailable(sdkError("InternalError", 500))).toBe(true);
    expect(isUnavailable(new Error("outer", { cause: Object.assign(new Error("inner"), { code: "ECONNRESET" }) }))).toBe(true);
  });

  it("does not treat answers or configuration errors as unavailable", () => {
    expect(isUnavailable(sdkError("AccessDenied", 403))).toBe(false);
    expect(isUnavailable(sdkError("NoSuchBucket", 404))).toBe(false);
    expect(isUnavailable(sdkError("InvalidArgument", 400))).toBe(false);
    expect(isNotFound(sdkError("NotFound", 404))).toBe(true);
    expect(isNotFound(sdkError("NoSuchKey"))).toBe(true);
  });

  it("wraps only unavailable errors", () => {
    const wrapped = toStorageError(sdkError("SlowDown", 503), "PutObject");
    expect(wrapped).toBeInstanceOf(StorageUnavailableError);
    expect((wrapped as Error).message).toBe("S3 PutObject failed: SlowDown: SlowDown");
    const denied = sdkError("AccessDenied", 403);
    expect(toStorageError(denied, "PutObject")).toBe(denied);
  });
});

/**
 * s3rver has no ListParts, AbortMultipartUpload or ListMultipartUploads (store-contract.ts): what
 * the S3 store sends for them, and how it reads S3's answers, is checked here with a middleware
 * that answers in S3's place.
 */
describe("S3Store multipart requests (answered in S3's place)", () => {
  type TSent = { command: string; input: Record<string, unknown> };
  function answering(reply: (sent: TSent) => unknown): { store: S3Store; sent: TSent[] } {
    const sent: TSent[] = [];
    const store = createStore(
      { backend: "s3", bucket: "fleet-uploads", region: "eu-west-1", accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, prefix: "p/" },
      {
        s3: {
          configureClient: (client) =>
            client.middlewareStack.add(
              () => async (args) => {
                const entry = { command: "", input: args.input as Record<string, unknown> };
                sent.push(entry);
                return { output: reply(entry) as never, response: {} };
              },
              { step: "initialize", name: "answerInS3sPlace" },
            ),
        },
      },
    );
    stores.push(store);
    return { store, sent };
  }

  it("heads with ChecksumMode ENABLED and reports a full-object ChecksumSHA256 as hex, never a composite one", async () => {
    const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const base64 = Buffer.from(digest, "hex").toString("base64");
    const answers: Record<string, unknown>[] = [
      { ContentLength: 4, ETag: '"e"', ChecksumSHA256: base64, ChecksumType: "FULL_OBJECT" },
      { ContentLength: 4, ETag: '"e"', ChecksumSHA256: base64 },
      { ContentLength: 4, ETag: '"e-2"', ChecksumSHA256: `${base64}-2`, ChecksumType: "COMPOSITE" },
      { ContentLength: 4, ETag: '"e"' },
    ];
    const { store, sent } = answering(() => answers.shift());
    expect((await store.head("a.bin"))?.sha256).toBe(digest);
    expect((await store.head("a.bin"))?.sha256).toBe(digest);
    expect(await store.head("a.bin")).not.toHaveProperty("sha256");
    expect(await store.head("a.bin")).not.toHaveProperty("sha256");
    expect(sent[0]?.input).toEqual({ Bucket: "fleet-uploads", Key: "p/a.bin", ChecksumMode: "ENABLED" });
  });

  it("presigns a form whose policy pins the checksum fields when a SHA-256 is given", async () => {
    const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const post = await s3Store().presignPost({
      key: "a.bin",
      contentType: "application/octet-stream",
      maxBytes: 10,
      expiresIn: 60,
      sha256: digest,
    });
    const base64 = Buffer.from(digest, "hex").toString("base64");
    expect(Object.keys(post.fields).slice(-3)).toEqual(["x-amz-checksum-algorithm", "x-amz-checksum-sha256", "x-amz-signature"]);
    expect(post.fields).toMatchObject({ "x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": base64 });
    const policy = decodePolicy(post.fields);
    expect(policy.conditions).toContainEqual({ "x-amz-checksum-algorithm": "SHA256" });
    expect(policy.conditions).toContainEqual({ "x-amz-checksum-sha256": base64 });
  });

  it("lists every page of parts, and maps NoSuchUpload to NoSuchUploadError", async () => {
    const { store, sent } = answering(({ input }) =>
      input.PartNumberMarker === undefined
        ? { Parts: [{ PartNumber: 1, Size: 5, ETag: '"a"' }], IsTruncated: true, NextPartNumberMarker: "1" }
        : { Parts: [{ PartNumber: 2, Size: 3, ETag: '"b"' }], IsTruncated: false },
    );
    expect(await store.listParts("k.bin", "U1")).toEqual([
      { partNumber: 1, size: 5, etag: '"a"' },
      { partNumber: 2, size: 3, etag: '"b"' },
    ]);
    expect(sent.map((entry) => entry.input)).toEqual([
      { Bucket: "fleet-uploads", Key: "p/k.bin", UploadId: "U1" },
      { Bucket: "fleet-uploads", Key: "p/k.bin", UploadId: "U1", PartNumberMarker: "1" },
    ]);
    const missing = answering(() => {
      throw Object.assign(new Error("no such upload"), { name: "NoSuchUpload", $metadata: { httpStatusCode: 404 } });
    });
    await expect(missing.store.listParts("k.bin", "U2")).rejects.toBeInstanceOf(NoSuchUploadError);
    await expect(missing.store.abortMultipart("k.bin", "U2")).resolves.toBeUndefined();
    await expect(missing.store.completeMultipart("k.bin", "U2", [{ partNumber: 1, etag: '"a"' }])).rejects.toBeInstanceOf(
      NoSuchUploadError,
    );
  });

  it("completes with the parts named in order, and refuses S3's InvalidPart as InvalidPartError", async () => {
    const { store, sent } = answering(({ input }) =>
      "MultipartUpload" in input ? {} : { ContentLength: 8, ETag: '"x-2"', LastModified: new Date(0) },
    );
    const info = await store.completeMultipart("k.bin", "U1", [
      { partNumber: 1, etag: '"a"' },
      { partNumber: 2, etag: '"b"' },
    ]);
    expect(info).toMatchObject({ key: "k.bin", size: 8, etag: '"x-2"' });
    expect(sent[0]!.input).toEqual({
      Bucket: "fleet-uploads",
      Key: "p/k.bin",
      UploadId: "U1",
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"a"' },
          { PartNumber: 2, ETag: '"b"' },
        ],
      },
    });
    const refused = answering(() => {
      throw Object.assign(new Error("bad part"), { name: "InvalidPart", $metadata: { httpStatusCode: 400 } });
    });
    await expect(refused.store.completeMultipart("k.bin", "U1", [{ partNumber: 1, etag: '"a"' }])).rejects.toBeInstanceOf(InvalidPartError);
  });

  it("aborts by key and upload id, and lists unfinished uploads under the store's prefix, every page", async () => {
    const { store, sent } = answering(({ input }) => {
      if ("UploadId" in input) return {};
      return input.KeyMarker === undefined
        ? {
            Uploads: [{ Key: "p/sessions/a.bin", UploadId: "U1", Initiated: new Date(1000) }],
            IsTruncated: true,
            NextKeyMarker: "p/sessions/a.bin",
            NextUploadIdMarker: "U1",
          }
        : { Uploads: [{ Key: "p/sessions/b.bin", UploadId: "U2", Initiated: new Date(2000) }], IsTruncated: false };
    });
    await store.abortMultipart("sessions/a.bin", "U1");
    expect(sent[0]!.input).toEqual({ Bucket: "fleet-uploads", Key: "p/sessions/a.bin", UploadId: "U1" });
    expect(await store.listMultipartUploads("sessions/")).toEqual([
      { key: "sessions/a.bin", uploadId: "U1", initiated: new Date(1000) },
      { key: "sessions/b.bin", uploadId: "U2", initiated: new Date(2000) },
    ]);
    expect(sent[2]!.input).toMatchObject({ Prefix: "p/sessions/", KeyMarker: "p/sessions/a.bin", UploadIdMarker: "U1" });
  });

  it("presigns UploadPart for the part and upload, and refuses part numbers out of range", async () => {
    const url = new URL(await s3Store().presignPart({ key: "k.bin", uploadId: "U1", partNumber: 7, expiresIn: 600 }));
    expect(url.searchParams.get("partNumber")).toBe("7");
    expect(url.searchParams.get("uploadId")).toBe("U1");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("600");
    await expect(s3Store().presignPart({ key: "k.bin", uploadId: "U1", partNumber: 10_001, expiresIn: 600 })).rejects.toThrow(/partNumber/);
  });
});
