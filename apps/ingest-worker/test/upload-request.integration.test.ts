import { createHash } from "node:crypto";
import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { postForm } from "@fleetdrop/device/upload";
import { ZUploadResponseSchema } from "@fleetdrop/shared/protocol/upload";
import { ZErrorResponseSchema, ZFileExistsResponseSchema } from "@fleetdrop/shared/protocol/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostForm } from "@fleetdrop/storage/post-policy";
import { createHarness, FS_SECRET, rawDevice, type THarness } from "./harness";

let h: THarness;
let a: Awaited<ReturnType<typeof rawDevice>>;
let tmp: string;

beforeAll(async () => {
  h = await createHarness("upload");
  await h.startWorker();
  a = await rawDevice(h.broker, "ROBOT-A");
  tmp = await mkdtemp(path.join(tmpdir(), "fd-upload-"));
});

afterAll(async () => {
  await a?.close();
  await h?.close();
});

async function fileOf(sessionId: number, filename: string) {
  return h.prisma.file.findUnique({ where: { sessionId_filename: { sessionId, filename } } });
}

describe("file_upload/request → upload → uploaded", () => {
  it("answers the spec's response and records the file as pending, then uploaded when storage has it", async () => {
    const response = await a.ask("file_upload/request", {
      session_id: h.seed.openA,
      filename: "image_001.jpg",
      content_type: "image/jpeg",
      size_mb: 5,
    });
    const parsed = ZUploadResponseSchema.parse(response);
    expect(parsed.status).toBe(200);
    expect(parsed.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(parsed.object_key).toBe(`sessions/ROBOT-A/${h.seed.openA}/image_001.jpg`);
    expect(parsed.expires_in).toBe(3600);
    expect(parsed.url).toBe(`http://127.0.0.1:${h.httpPort}/fs/fleetdrop`);
    expect(parsed.fields).toMatchObject({ key: parsed.object_key, "Content-Type": "image/jpeg", "x-amz-algorithm": "AWS4-HMAC-SHA256" });
    for (const name of ["policy", "x-amz-credential", "x-amz-date", "x-amz-signature"]) expect(parsed.fields[name]).toBeTruthy();
    const policy = JSON.parse(Buffer.from(parsed.fields.policy!, "base64").toString());
    expect(policy.conditions).toEqual(
      expect.arrayContaining([["content-length-range", 0, 5 * 1024 * 1024], { key: parsed.object_key }, { "Content-Type": "image/jpeg" }]),
    );

    const pending = await fileOf(h.seed.openA, "image_001.jpg");
    expect(pending).toMatchObject({ id: parsed.file_id, state: "pending", contentType: "image/jpeg", sizeLimit: BigInt(5 * 1024 * 1024) });

    const file = path.join(tmp, "image_001.jpg");
    const bytes = Buffer.alloc(300_000, 7);
    await writeFile(file, bytes);
    const stored = await postForm(parsed, { path: file, size: bytes.length, filename: "image_001.jpg", contentType: "image/jpeg" });
    expect(stored.status).toBe(204);

    const uploaded = await fileOf(h.seed.openA, "image_001.jpg");
    expect(uploaded).toMatchObject({ state: "uploaded", size: BigInt(bytes.length), storedContentType: "image/jpeg" });
    expect(uploaded!.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(uploaded!.uploadedAt).toBeInstanceOf(Date);
    // Arrived through a form; the fs endpoint hashed it on the way in.
    expect(uploaded).toMatchObject({ arrivedVia: "form", sha256: createHash("sha256").update(bytes).digest("hex") });
  });

  it("records that a device agent asked when it says so, and refuses an unknown `via`", async () => {
    expect(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "agent.bin", via: "agent" })).toMatchObject({
      success: true,
    });
    expect(await fileOf(h.seed.openA, "agent.bin")).toMatchObject({ state: "pending", arrivedVia: "agent" });
    for (const via of ["mqtt_transfer", "", 1, { agent: true }])
      expect(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "bogus.bin", via })).toMatchObject({
        status: 400,
        code: "invalid_payload",
      });
    expect(await fileOf(h.seed.openA, "bogus.bin")).toBeNull();
  });

  it("runs end to end through the device SDK, sub-folders included", async () => {
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const file = path.join(tmp, "system.log");
      await writeFile(file, "line 1\nline 2\n");
      const result = await device.uploadFile({ sessionId: h.seed.openA, path: file, filename: "logs/system.log" });
      expect(result.objectKey).toBe(`sessions/ROBOT-A/${h.seed.openA}/logs/system.log`);
      expect(await fileOf(h.seed.openA, "logs/system.log")).toMatchObject({ state: "uploaded", size: 14n, contentType: "text/plain" });
      const onDisk = await h.store.open(result.objectKey);
      const chunks: Buffer[] = [];
      for await (const chunk of onDisk!.body) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(await readFile(file, "utf8"));
    } finally {
      await device.close();
    }
  });

  it("answers a re-delivered request with an equivalent form for the same file, and records one row", async () => {
    const request = { session_id: h.seed.openA, filename: "dup.bin", request_id: "same-id" };
    await a.send("file_upload/request", request);
    await a.send("file_upload/request", request);
    const first = await a.next((m) => m.body.request_id === "same-id");
    const second = await a.next((m) => m.body.request_id === "same-id");
    expect(first.body.success).toBe(true);
    expect(second.body.success).toBe(true);
    expect(second.body.file_id).toBe(first.body.file_id);
    expect(second.body.object_key).toBe(first.body.object_key);
    expect(await h.prisma.file.count({ where: { sessionId: h.seed.openA, filename: "dup.bin" } })).toBe(1);
  });

  it("uses defaults: octet-stream and the platform's largest size", async () => {
    const response = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "blob" });
    expect(response.fields).toMatchObject({ "Content-Type": "application/octet-stream" });
    const policy = JSON.parse(Buffer.from((response.fields as Record<string, string>).policy!, "base64").toString());
    expect(policy.conditions).toContainEqual(["content-length-range", 0, 100 * 1024 * 1024]);
  });

  it("refuses a second upload of an uploaded name (409 file_exists) unless overwrite is true", async () => {
    const before = await fileOf(h.seed.openA, "image_001.jpg");
    expect(before).toMatchObject({ state: "uploaded" });
    const refused = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "image_001.jpg", content_type: "image/jpeg" });
    expect(ZErrorResponseSchema.parse(refused)).toMatchObject({ status: 409, code: "file_exists" });
    // It says what is stored under the name, as the file row has it.
    const stored = await h.prisma.file.findUniqueOrThrow({
      where: { sessionId_filename: { sessionId: h.seed.openA, filename: "image_001.jpg" } },
    });
    expect(ZFileExistsResponseSchema.parse(refused).existing).toEqual({
      size: Number(stored.size),
      sha256: stored.sha256,
      uploaded_at: stored.uploadedAt!.toISOString(),
    });
    const allowed = await a.ask("file_upload/request", {
      session_id: h.seed.openA,
      filename: "image_001.jpg",
      content_type: "image/jpeg",
      overwrite: true,
    });
    expect(allowed.success).toBe(true);
    expect(await fileOf(h.seed.openA, "image_001.jpg")).toMatchObject({ state: "pending" });

    // The form is never used: once it expired, storage still holding the recorded object keeps the
    // file as it was (issued_at moved past the object's time, which the sweeper would otherwise
    // take for this form's upload).
    const where = { sessionId_filename: { sessionId: h.seed.openA, filename: "image_001.jpg" } };
    await h.prisma.file.update({
      where,
      data: { issuedAt: new Date(Date.now() + 10_000), expiresAt: new Date(Date.now() - 3_600_000), nextCheckAt: new Date() },
    });
    await h.workers[0]!.sweepNow();
    expect(await fileOf(h.seed.openA, "image_001.jpg")).toMatchObject({ state: "uploaded", etag: before!.etag, size: before!.size });
  });

  it("sends the answer to an MQTT 5 Response Topic under the device, with the Correlation Data", async () => {
    const correlationData = Buffer.from("corr-42");
    await a.send(
      "file_upload/request",
      { session_id: h.seed.openA, filename: "rt.bin" },
      { properties: { responseTopic: "fleetdrop/fleet/ROBOT-A/replies/7", correlationData } },
    );
    const reply = await a.next((m) => m.topic === "fleetdrop/fleet/ROBOT-A/replies/7");
    expect(reply.body.success).toBe(true);
    expect(reply.correlationData?.toString()).toBe("corr-42");

    // A Response Topic outside the device's namespace is not used: the fixed topic is.
    await a.send(
      "file_upload/request",
      { session_id: h.seed.openA, filename: "rt2.bin", request_id: "rt2" },
      { properties: { responseTopic: "fleetdrop/fleet/ROBOT-B/file_upload/response", correlationData } },
    );
    const fixed = await a.next((m) => m.body.request_id === "rt2");
    expect(fixed.topic).toBe("fleetdrop/fleet/ROBOT-A/file_upload/response");
  });
});

describe("refusals carry the spec's status and code, and change nothing", () => {
  const cases: [string, unknown, number, string][] = [
    ["invalid JSON", "{not json", 400, "invalid_json"],
    ["a JSON array", "[1]", 400, "invalid_json"],
    ["session_id as a string", { session_id: "1", filename: "a" }, 400, "invalid_session_id"],
    ["no filename", { session_id: 1 }, 400, "invalid_filename"],
    ["../x", { session_id: 1, filename: "../x" }, 400, "invalid_filename"],
    ["a//b", { session_id: 1, filename: "a//b" }, 400, "invalid_filename"],
    ["/abs", { session_id: 1, filename: "/abs" }, 400, "invalid_filename"],
    ["a\\b", { session_id: 1, filename: "a\\b" }, 400, "invalid_filename"],
    ["a control character", { session_id: 1, filename: "a\u0007b" }, 400, "invalid_filename"],
    ["a 256-byte name", { session_id: 1, filename: "n".repeat(256) }, 400, "invalid_filename"],
    ["a bad content type", { session_id: 1, filename: "a", content_type: "jpeg" }, 400, "invalid_content_type"],
    ["size_mb 0", { session_id: 1, filename: "a", size_mb: 0 }, 400, "invalid_size"],
    ["size_mb above the limit", { session_id: 1, filename: "a", size_mb: 101 }, 413, "file_too_large"],
    ["size_mb above S3's ceiling", { session_id: 1, filename: "a", size_mb: 6000 }, 413, "file_too_large"],
  ];

  it.each(cases)("%s", async (_name, payload, status, code) => {
    const body =
      typeof payload === "string"
        ? payload
        : {
            ...(payload as object),
            session_id:
              (payload as { session_id: unknown }).session_id === 1 ? h.seed.openA : (payload as { session_id: unknown }).session_id,
          };
    const before = await h.prisma.file.count();
    let response: Record<string, unknown>;
    if (typeof body === "string") {
      a.inbox.length = 0;
      await a.send("file_upload/request", body);
      response = (await a.next()).body;
    } else {
      response = await a.ask("file_upload/request", body);
    }
    expect(ZErrorResponseSchema.parse(response)).toMatchObject({ success: false, status, code });
    expect(String(response.error).length).toBeGreaterThan(5);
    expect(await h.prisma.file.count()).toBe(before);
  });

  it("text PostgreSQL cannot hold (NUL, unpaired surrogates) is refused and does not fail the other requests of its batch", async () => {
    const b = await rawDevice(h.broker, "ROBOT-B");
    try {
      const hostile = [
        // JSON escapes: valid JSON and valid UTF-8 on the wire, but not text PostgreSQL stores.
        ['{"session_id":SID,"filename":"nul.bin","request_id":"a\\u0000b"}', "invalid_json"],
        ['{"session_id":SID,"filename":"sur.bin","request_id":"a\\ud800b"}', "invalid_json"],
        ['{"session_id":SID,"filename":"a\\udc00.bin"}', "invalid_json"],
      ] as const;
      const before = await h.prisma.file.count();
      a.inbox.length = 0;
      const ordinary = Array.from({ length: 20 }, (_, i) =>
        b.ask("file_upload/request", { session_id: h.seed.openB, filename: `batch/${i}.bin` }),
      );
      for (const [payload] of hostile) await a.send("file_upload/request", payload.replace("SID", String(h.seed.openA)));
      const answers = await Promise.all(ordinary);
      expect(answers.every((answer) => answer.success === true)).toBe(true);
      const refusals = [await a.next(), await a.next(), await a.next()].map((m) => m.body);
      const byText = (a: unknown[], b: unknown[]) => (a.join() < b.join() ? -1 : a.join() > b.join() ? 1 : 0);
      expect(refusals.map((r) => [r.status, r.code]).sort(byText)).toEqual(hostile.map(([, code]) => [400, code]).sort(byText));
      expect(await h.prisma.file.count()).toBe(before + 20);
    } finally {
      await b.close();
    }
  });

  it("a payload over 64 KiB is refused (413) and the request id is still echoed when readable", async () => {
    a.inbox.length = 0;
    await a.send("file_upload/request", JSON.stringify({ session_id: h.seed.openA, filename: "a", pad: "x".repeat(70_000) }));
    expect((await a.next()).body).toMatchObject({ status: 413, code: "payload_too_large" });
    const response = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "../bad" });
    expect(response).toMatchObject({ status: 400, code: "invalid_filename" });
    expect(response.request_id).toMatch(/^r-/);
  });

  it("unknown, foreign and closed sessions; unknown and disabled devices", async () => {
    expect(await a.ask("file_upload/request", { session_id: 999_999, filename: "a" })).toMatchObject({
      status: 404,
      code: "session_not_found",
    });
    expect(await a.ask("file_upload/request", { session_id: 99_999_999_999, filename: "a" })).toMatchObject({
      status: 404,
      code: "session_not_found",
    });
    expect(await a.ask("file_upload/request", { session_id: h.seed.openB, filename: "a" })).toMatchObject({
      status: 403,
      code: "session_not_owned",
      error: "Invalid session or session does not belong to device",
    });
    expect(await a.ask("file_upload/request", { session_id: h.seed.closedA, filename: "a" })).toMatchObject({
      status: 409,
      code: "session_closed",
    });

    const ghost = await rawDevice(h.broker, "ROBOT-GHOST");
    expect(await ghost.ask("file_upload/request", { session_id: h.seed.openA, filename: "a" })).toMatchObject({
      status: 403,
      code: "device_unknown",
    });
    await ghost.close();
    const off = await rawDevice(h.broker, "ROBOT-OFF");
    expect(await off.ask("file_upload/request", { session_id: h.seed.openDisabled, filename: "a" })).toMatchObject({
      status: 403,
      code: "device_disabled",
    });
    await off.close();
    expect(await h.prisma.file.count({ where: { filename: "a" } })).toBe(0);
  });

  it("ignores unknown fields (forward compatibility)", async () => {
    const response = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "fwd.bin", future: { nested: [1, 2] } });
    expect(response.success).toBe(true);
  });
});

describe("storage enforces the form", () => {
  async function form(filename: string, sizeMb = 1, contentType = "text/plain") {
    return ZUploadResponseSchema.parse(
      await a.ask("file_upload/request", { session_id: h.seed.openA, filename, size_mb: sizeMb, content_type: contentType }),
    );
  }

  async function post(fields: Record<string, string>, content: Buffer, contentType = "text/plain") {
    const file = path.join(tmp, `post-${Math.random()}`);
    await writeFile(file, content);
    return postForm(
      { url: `http://127.0.0.1:${h.httpPort}/fs/fleetdrop`, fields },
      { path: file, size: content.length, filename: "f", contentType },
    ).then(
      (ok) => ({ status: ok.status, code: "" }),
      (error: { status: number; code: string }) => ({ status: error.status, code: error.code }),
    );
  }

  it("refuses a file larger than size_mb and leaves the file pending with nothing stored", async () => {
    const f = await form("big.txt", 1);
    expect(await post(f.fields, Buffer.alloc(1024 * 1024 + 1))).toMatchObject({ status: 400, code: "EntityTooLarge" });
    expect(await h.store.head(f.object_key)).toBeNull();
    expect(await fileOf(h.seed.openA, "big.txt")).toMatchObject({ state: "pending" });
  });

  it("refuses a changed key (another device's folder), a changed Content-Type and a bad signature", async () => {
    const f = await form("ok.txt");
    expect(await post({ ...f.fields, key: `sessions/ROBOT-B/${h.seed.openB}/evil.txt` }, Buffer.from("x"))).toMatchObject({ status: 403 });
    expect(await h.store.head(`sessions/ROBOT-B/${h.seed.openB}/evil.txt`)).toBeNull();
    expect(await post({ ...f.fields, "Content-Type": "text/html" }, Buffer.from("x"))).toMatchObject({ status: 403 });
    const signature = f.fields["x-amz-signature"]!;
    expect(
      await post({ ...f.fields, "x-amz-signature": signature.replace(/^./, signature[0] === "a" ? "b" : "a") }, Buffer.from("x")),
    ).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(await h.store.head(f.object_key)).toBeNull();
  });

  it("refuses an expired form", async () => {
    // Signed an hour ago for a minute, with the store's credentials: expired without waiting.
    const expired = createPostForm({
      bucket: h.store.bucket,
      key: `sessions/ROBOT-A/${h.seed.openA}/late.txt`,
      contentType: "text/plain",
      maxBytes: 10,
      expiresIn: 60,
      region: "us-east-1",
      credentials: { accessKeyId: "fleetdrop", secretAccessKey: FS_SECRET },
      now: new Date(Date.now() - 3600 * 1000),
    });
    expect(await post(expired.fields, Buffer.from("x"))).toMatchObject({ status: 403, code: "AccessDenied" });
  });
});
