import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { createStore } from "./config";
import { createFsEndpoint } from "./fs-upload-endpoint";
import type { TEndpointLogger, TFsEndpoint, TFsEndpointOptions, TObjectStoredEvent } from "./fs-upload-endpoint";
import type { FsStore } from "./fs-store";
import { createPostForm, signPostPolicy } from "./post-policy";
import { presignUrl } from "./presigned-url";
import { toAmzDate } from "./sigv4/amz-date";
import { errorCode, postMultipart, request } from "./test-support/http-client";
import { formParts, multipartBody } from "./test-support/multipart";
import type { TPart } from "./test-support/multipart";
import { listFiles, makeTempDir } from "./test-support/temp-dir";

const ACCESS_KEY = "FLEETDROPTESTKEY";
const SECRET = "fleetdrop-test-secret-0123456789";
const KEY = "sessions/ROBOT-ABC123/123/image_001.jpg";

let temp: { dir: string; remove: () => Promise<void> };
let server: http.Server;
let origin: string;
let store: FsStore;
let stored: TObjectStoredEvent[];
let endpoint: TFsEndpoint;
type TLogFn = TEndpointLogger["error"];
let logger: { warn: ReturnType<typeof vi.fn<TLogFn>>; error: ReturnType<typeof vi.fn<TLogFn>> };

async function start(options: Partial<TFsEndpointOptions> = {}): Promise<void> {
  temp = await makeTempDir("fs-endpoint");
  stored = [];
  logger = { warn: vi.fn<TLogFn>(), error: vi.fn<TLogFn>() };
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
  server = http.createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(404).end("not under /fs");
    }
  });
  server.requestTimeout = 0; // uploads may take long; the endpoint has its own idle timeout
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  store = createStore({
    backend: "fs",
    bucket: "uploads",
    rootDir: temp.dir,
    publicUrl: origin,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET,
  });
  endpoint = createFsEndpoint({
    stores: [store],
    logger,
    onObjectStored: (event) => {
      stored.push(event);
    },
    ...options,
  });
  handler = endpoint.handle;
}

async function stop(): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await temp.remove();
}

function md5(data: Buffer | string): string {
  return `"${createHash("md5").update(data).digest("hex")}"`;
}

async function presign(maxBytes = 1024 * 1024, contentType = "image/jpeg", key = KEY) {
  return store.presignPost({ key, contentType, maxBytes, expiresIn: 600 });
}

/** Everything the bucket folder holds: objects, metadata and temp files. */
function bucketFiles(): Promise<string[]> {
  return listFiles(path.join(temp.dir, "uploads"));
}

/** Waits until the bucket folder holds exactly `expected` (cleanup runs after the reply). */
async function expectBucketFiles(expected: string[]): Promise<void> {
  const deadline = Date.now() + 3000;
  let files = await bucketFiles();
  while (JSON.stringify(files) !== JSON.stringify(expected) && Date.now() < deadline) {
    await delay(20);
    files = await bucketFiles();
  }
  expect(files).toEqual(expected);
}

/** `count` chunks of 64 KiB; `progress.sent` counts the chunks the client has produced. */
function generatedFile(count: number, progress: { sent: number } = { sent: 0 }, pauseMs = 0) {
  return async function* (): AsyncGenerator<Buffer> {
    const chunk = randomBytes(64 * 1024);
    for (let i = 0; i < count; i++) {
      progress.sent++;
      if (pauseMs) await delay(pauseMs);
      yield chunk;
    }
  };
}

beforeEach(() => start());
afterEach(() => stop());

describe("POST /fs/<bucket>", () => {
  it("stores a file posted with a form from presignPost (204, file + metadata, onObjectStored)", async () => {
    const post = await presign();
    expect(post.url).toBe(`${origin}/fs/uploads`);
    const file = randomBytes(200_000);
    const result = await postMultipart(post.url, multipartBody(formParts(post.fields, file, "image_001.jpg", "image/jpeg")));
    expect(result.status).toBe(204);
    expect(result.headers.etag).toBe(md5(file));
    expect(result.headers.location).toBe(`${origin}/fs/uploads/sessions%2FROBOT-ABC123%2F123%2Fimage_001.jpg`);
    expect(result.headers["access-control-allow-origin"]).toBe("*");

    expect(await readFile(path.join(temp.dir, "uploads/objects", KEY))).toEqual(file);
    const meta = JSON.parse(await readFile(path.join(temp.dir, "uploads/meta", KEY), "utf8")) as Record<string, unknown>;
    const sha256 = createHash("sha256").update(file).digest("hex");
    expect(meta).toMatchObject({ size: file.length, etag: md5(file), contentType: "image/jpeg", sha256 });
    expect(await bucketFiles()).toEqual([`meta/${KEY}`, `objects/${KEY}`]);
    expect(stored).toEqual([{ store, bucket: "uploads", key: KEY, size: file.length, etag: md5(file), contentType: "image/jpeg", sha256 }]);
    expect(await store.head(KEY)).toMatchObject({ size: file.length, etag: md5(file), contentType: "image/jpeg", sha256 });
  });

  it("accepts a file part sent without a filename", async () => {
    const post = await presign();
    const parts: TPart[] = [
      ...Object.entries(post.fields).map(([name, value]) => ({ name, value })),
      { name: "file", content: Buffer.from("no filename") },
    ];
    expect((await postMultipart(post.url, multipartBody(parts))).status).toBe(204);
    expect(await readFile(path.join(temp.dir, "uploads/objects", KEY), "utf8")).toBe("no filename");
  });

  it("refuses a file over content-length-range as soon as it passes the limit, leaving nothing", async () => {
    const post = await presign(1024 * 1024);
    const progress = { sent: 0 };
    const total = 1024; // 64 MiB
    const parts = [
      ...Object.entries(post.fields).map(([name, value]) => ({ name, value })),
      { name: "file", filename: "big.bin", content: generatedFile(total, progress) },
    ];
    const result = await postMultipart(post.url, multipartBody(parts));
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("EntityTooLarge");
    expect(result.body.toString()).toContain("<MaxSizeAllowed>1048576</MaxSizeAllowed>");
    // The answer came long before the client had produced the whole body.
    expect(progress.sent).toBeLessThan(total / 2);
    await expectBucketFiles([]);
    expect(stored).toEqual([]);
  });

  it("refuses malformed forms: file before fields, two files, no file, fields after the file (400)", async () => {
    const post = await presign();
    const fieldParts = Object.entries(post.fields).map(([name, value]) => ({ name, value }));
    const file = (name = "file"): TPart => ({ name, filename: "a.jpg", content: Buffer.from("content") });
    const cases: Array<[TPart[], string, string]> = [
      [[file(), ...fieldParts], "InvalidArgument", "Bucket POST must contain a field named 'key'"],
      [[...fieldParts, file(), file()], "InvalidArgument", "exactly one file"],
      [fieldParts, "InvalidArgument", "exactly one file"],
      [[...fieldParts, file(), { name: "submit", value: "Upload" }], "InvalidArgument", "Fields after the file"],
      [[...fieldParts, file("upload")], "InvalidArgument", "Only the part named file"],
      [[{ name: "padding", value: "x".repeat(30_000) }, ...fieldParts, file()], "MaxPostPreDataLengthExceeded", "too large"],
    ];
    for (const [parts, code, message] of cases) {
      const result = await postMultipart(post.url, multipartBody(parts));
      expect([result.status, errorCode(result)], message).toEqual([400, code]);
      expect(result.body.toString()).toContain(message);
    }
    await expectBucketFiles([]);
    expect(stored).toEqual([]);
  });

  it("answers 412 to a body that is not multipart/form-data, and 400 to a broken one", async () => {
    const notMultipart = await request(`${origin}/fs/uploads`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: Buffer.from("{}"),
    });
    expect([notMultipart.status, errorCode(notMultipart)]).toEqual([412, "PreconditionFailed"]);
    const noBoundary = await request(`${origin}/fs/uploads`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data" },
      body: Buffer.from("x"),
    });
    expect([noBoundary.status, errorCode(noBoundary)]).toEqual([400, "MalformedPOSTRequest"]);
    const truncated = await request(`${origin}/fs/uploads`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=XYZ" },
      body: Buffer.from('--XYZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc'),
    });
    expect(truncated.status).toBe(400);
    await expectBucketFiles([]);
  });

  it("leaves nothing behind when the client disconnects mid-file", async () => {
    const post = await presign(64 * 1024 * 1024);
    const form = multipartBody([
      ...Object.entries(post.fields).map(([name, value]) => ({ name, value })),
      { name: "file", filename: "a.bin", content: generatedFile(1024, { sent: 0 }, 2) },
    ]);
    const url = new URL(post.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      headers: { "Content-Type": form.contentType },
    });
    req.on("error", () => undefined);
    form.body.pipe(req);
    // Wait until the upload is being written to a temp file, then cut the connection.
    const deadline = Date.now() + 5000;
    while ((await bucketFiles()).length === 0 && Date.now() < deadline) await delay(10);
    expect((await bucketFiles()).some((file) => file.startsWith("tmp/"))).toBe(true);
    form.body.unpipe(req);
    req.destroy();
    await expectBucketFiles([]);
    expect(stored).toEqual([]);
  });

  it("keeps the upload when onObjectStored throws, and logs it", async () => {
    await stop();
    await start({
      onObjectStored: () => {
        throw new Error("database down");
      },
    });
    const post = await presign();
    const result = await postMultipart(post.url, multipartBody(formParts(post.fields, Buffer.from("kept"))));
    expect(result.status).toBe(204);
    expect(await readFile(path.join(temp.dir, "uploads/objects", KEY), "utf8")).toBe("kept");
    expect(logger.error).toHaveBeenCalledWith(expect.objectContaining({ key: KEY }), expect.stringContaining("onObjectStored failed"));
  });

  it("refuses keys that would leave the bucket folder, even in a correctly signed form", async () => {
    for (const key of ["../../outside.txt", "a/../../outside.txt", "/abs.txt", "a\\b"]) {
      const form = createPostForm({
        bucket: "uploads",
        key,
        contentType: "text/plain",
        maxBytes: 100,
        expiresIn: 60,
        region: "us-east-1",
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      });
      const result = await postMultipart(`${origin}/fs/uploads`, multipartBody(formParts(form.fields, Buffer.from("x"))));
      expect([result.status, errorCode(result)], key).toEqual([400, "InvalidArgument"]);
    }
    expect(existsSync(path.join(temp.dir, "outside.txt"))).toBe(false);
    expect(await listFiles(temp.dir)).toEqual([]);
  });

  it("honours a signed success_action_status of 201 with S3's PostResponse", async () => {
    const now = new Date();
    const amzDate = toAmzDate(now);
    const credential = `${ACCESS_KEY}/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(now.getTime() + 60_000).toISOString(),
        conditions: [
          { bucket: "uploads" },
          { key: KEY },
          { success_action_status: "201" },
          { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
          { "x-amz-credential": credential },
          { "x-amz-date": amzDate },
        ],
      }),
    ).toString("base64");
    const fields = {
      key: KEY,
      success_action_status: "201",
      policy,
      "x-amz-algorithm": "AWS4-HMAC-SHA256",
      "x-amz-credential": credential,
      "x-amz-date": amzDate,
      "x-amz-signature": signPostPolicy(policy, SECRET, amzDate.slice(0, 8), "us-east-1"),
    };
    const result = await postMultipart(`${origin}/fs/uploads`, multipartBody(formParts(fields, Buffer.from("x"))));
    expect(result.status).toBe(201);
    expect(result.body.toString()).toContain(`<Bucket>uploads</Bucket><Key>${KEY}</Key><ETag>${md5("x")}</ETag>`);
    expect(stored[0]?.contentType).toBe("application/octet-stream");
  });

  it("frees every upload slot, whatever way an upload ends", async () => {
    const post = await presign(1000);
    const parts = Object.entries(post.fields).map(([name, value]) => ({ name, value }));
    await postMultipart(post.url, multipartBody(formParts(post.fields, Buffer.from("ok"))));
    await postMultipart(post.url, multipartBody(formParts({ ...post.fields, key: "x" }, Buffer.from("x"))));
    await postMultipart(post.url, multipartBody(formParts(post.fields, randomBytes(5000))));
    await postMultipart(post.url, multipartBody(parts));
    await request(post.url, { method: "POST", headers: { "Content-Type": "text/plain" }, body: Buffer.from("x") });
    const deadline = Date.now() + 3000;
    while (endpoint.activeUploads !== 0 && Date.now() < deadline) await delay(10);
    expect(endpoint.activeUploads).toBe(0);
  });

  it("drops an upload whose connection goes idle, leaving nothing", async () => {
    await stop();
    await start({ idleTimeoutMs: 300 });
    const post = await presign(64 * 1024 * 1024);
    const stalled = multipartBody([
      ...Object.entries(post.fields).map(([name, value]) => ({ name, value })),
      {
        name: "file",
        filename: "a.bin",
        content: async function* () {
          yield randomBytes(100_000);
          await delay(5000); // the device stops sending
          yield randomBytes(10);
        },
      },
    ]);
    const started = Date.now();
    const result = await postMultipart(post.url, stalled);
    expect([result.status, errorCode(result)]).toEqual([400, "RequestTimeout"]);
    expect(Date.now() - started).toBeLessThan(3000);
    await expectBucketFiles([]);
    expect(endpoint.activeUploads).toBe(0);
  });

  it("answers 503 SlowDown beyond the concurrent upload limit", async () => {
    await stop();
    await start({ maxConcurrentUploads: 1 });
    const post = await presign(64 * 1024 * 1024);
    const slow = postMultipart(
      post.url,
      multipartBody([
        ...Object.entries(post.fields).map(([name, value]) => ({ name, value })),
        { name: "file", filename: "a", content: generatedFile(20, { sent: 0 }, 20) },
      ]),
    );
    await delay(100);
    const second = await postMultipart(post.url, multipartBody(formParts(post.fields, Buffer.from("x"))));
    expect([second.status, errorCode(second)]).toEqual([503, "SlowDown"]);
    expect((await slow).status).toBe(204);
    // The slot is free again once the first upload is done.
    expect((await postMultipart(post.url, multipartBody(formParts(post.fields, Buffer.from("x"))))).status).toBe(204);
  });
});

describe("routing and CORS", () => {
  it("returns false outside basePath so the server can route it", async () => {
    const result = await request(`${origin}/healthz`);
    expect([result.status, result.body.toString()]).toEqual([404, "not under /fs"]);
    expect((await request(`${origin}/fsx/uploads`)).body.toString()).toBe("not under /fs");
  });

  it("answers CORS preflight", async () => {
    const result = await request(`${origin}/fs/uploads`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://dashboard.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(result.status).toBe(204);
    expect(result.headers["access-control-allow-origin"]).toBe("*");
    expect(result.headers["access-control-allow-methods"]).toContain("POST");
    expect(result.headers["access-control-allow-headers"]).toBe("content-type");
  });

  it("answers 404 NoSuchBucket and 405 for other methods", async () => {
    const noBucket = await request(`${origin}/fs/elsewhere`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=x" },
      body: Buffer.from("--x--"),
    });
    expect([noBucket.status, errorCode(noBucket)]).toEqual([404, "NoSuchBucket"]);
    const put = await request(`${origin}/fs/uploads/key`, { method: "PUT", body: Buffer.from("x") });
    expect([put.status, errorCode(put)]).toEqual([405, "MethodNotAllowed"]);
  });
});

describe("GET /fs/<bucket>/<key>", () => {
  const content = Buffer.from("0123456789abcdefghij");

  beforeEach(async () => {
    await store.put("logs/système 1.log", content, { contentType: "text/plain" });
  });

  it("streams the object with its metadata and the signed Content-Disposition", async () => {
    const url = await store.presignGet({ key: "logs/système 1.log", expiresIn: 60, downloadName: "système 1.log" });
    const result = await request(url);
    expect(result.status).toBe(200);
    expect(result.body).toEqual(content);
    expect(result.headers).toMatchObject({
      "content-type": "text/plain",
      "content-length": String(content.length),
      etag: md5(content),
      "accept-ranges": "bytes",
      "content-disposition": "attachment; filename=\"syst_me 1.log\"; filename*=UTF-8''syst%C3%A8me%201.log",
      "access-control-allow-origin": "*",
    });
    expect(new Date(result.headers["last-modified"] as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("overrides the Content-Type when the URL says so, and answers HEAD", async () => {
    const url = await store.presignGet({ key: "logs/système 1.log", expiresIn: 60, contentType: "application/x-log" });
    expect((await request(url)).headers["content-type"]).toBe("application/x-log");
    const head = await request(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(content.length));
    expect(head.body.length).toBe(0);
  });

  it("serves ranges (206) and refuses unsatisfiable ones (416)", async () => {
    const url = await store.presignGet({ key: "logs/système 1.log", expiresIn: 60 });
    const part = await request(url, { headers: { Range: "bytes=5-9" } });
    expect([part.status, part.body.toString(), part.headers["content-range"], part.headers["content-length"]]).toEqual([
      206,
      "56789",
      "bytes 5-9/20",
      "5",
    ]);
    const suffix = await request(url, { headers: { Range: "bytes=-3" } });
    expect([suffix.status, suffix.body.toString()]).toEqual([206, "hij"]);
    const open = await request(url, { headers: { Range: "bytes=15-" } });
    expect(open.body.toString()).toBe("fghij");
    const beyond = await request(url, { headers: { Range: "bytes=20-" } });
    expect([beyond.status, errorCode(beyond), beyond.headers["content-range"]]).toEqual([416, "InvalidRange", "bytes */20"]);
  });

  it("refuses a tampered signature, another key, an expired URL (403) and answers 404 NoSuchKey", async () => {
    const url = await store.presignGet({ key: "logs/système 1.log", expiresIn: 60 });
    const signature = new URL(url).searchParams.get("X-Amz-Signature") as string;
    const tampered = await request(
      url.replace(
        signature,
        signature.replace(/^./, (c) => (c === "a" ? "b" : "a")),
      ),
    );
    expect([tampered.status, errorCode(tampered)]).toEqual([403, "SignatureDoesNotMatch"]);
    const otherKey = await request(url.replace("1.log", "2.log"));
    expect([otherKey.status, errorCode(otherKey)]).toEqual([403, "SignatureDoesNotMatch"]);
    const unsigned = await request(url.split("?")[0] as string);
    expect([unsigned.status, errorCode(unsigned)]).toEqual([403, "AccessDenied"]);

    const expired = presignUrl({
      origin,
      path: "/fs/uploads/logs/système 1.log",
      region: "us-east-1",
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      expiresIn: 60,
      now: new Date(Date.now() - 3600 * 1000),
    });
    const old = await request(expired);
    expect([old.status, errorCode(old)]).toEqual([403, "AccessDenied"]);

    const missing = await request(await store.presignGet({ key: "logs/missing.log", expiresIn: 60 }));
    expect([missing.status, errorCode(missing)]).toEqual([404, "NoSuchKey"]);
  });

  it("refuses path traversal in download URLs, even correctly signed", async () => {
    for (const key of ["../meta/logs/système 1.log", "logs/../../../etc/passwd"]) {
      const url = presignUrl({
        origin,
        path: `/fs/uploads/${key}`,
        region: "us-east-1",
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
        expiresIn: 60,
      });
      // Sent as written: the `..` reaches the server (a normalising client would drop it).
      const result = await request(url, { rawPath: true });
      expect([result.status, errorCode(result)], key).toEqual([400, "InvalidArgument"]);
      // Percent-encoded dots decode to the same refused key.
      const encoded = await request(url.replace(/\/\.\.\//g, "/%2E%2E/"), { rawPath: true });
      expect([encoded.status, errorCode(encoded)], key).toEqual([400, "InvalidArgument"]);
    }
  });
});
