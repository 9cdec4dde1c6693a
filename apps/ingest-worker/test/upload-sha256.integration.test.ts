/**
 * Every form upload ends with its SHA-256 recorded, against a real worker, PostgreSQL and both
 * stores: the fs store hashes what it stores and refuses bytes that are not the ones a request's
 * `sha256` named; with S3 (s3rver, which reports no checksum and enforces none) the worker reads
 * the object itself: before recording it when the request gave a digest (a mismatch is deleted
 * and the file `failed`, never `uploaded`), afterwards when it gave none.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { ZUploadResponseSchema, type TUploadResponse } from "@fleetdrop/shared/protocol/upload";
import type { S3Store } from "@fleetdrop/storage/s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, rawDevice, type THarness } from "./harness";
import { postContent, startS3Worker } from "./support/forms";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

type TDevice = Awaited<ReturnType<typeof rawDevice>>;

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "fd-upload-sha256-"));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function form(device: TDevice, sessionId: number, filename: string, extra: Record<string, unknown> = {}) {
  return ZUploadResponseSchema.parse(await device.ask("file_upload/request", { session_id: sessionId, filename, ...extra }));
}

const post = (upload: TUploadResponse, content: string) => postContent(upload, content, tmp);

function fileRow(h: THarness, filename: string) {
  return h.prisma.file.findUniqueOrThrow({ where: { sessionId_filename: { sessionId: h.seed.openA, filename } } });
}

/** The file row once `ready` holds for it (the worker hashes apart from its answers). */
async function eventually(h: THarness, filename: string, ready: (row: Awaited<ReturnType<typeof fileRow>>) => boolean) {
  for (let attempt = 0; ; attempt++) {
    const row = await fileRow(h, filename);
    if (ready(row) || attempt === 200) return row;
    await delay(50);
  }
}

describe("fs store", () => {
  let h: THarness;
  let a: TDevice;

  beforeAll(async () => {
    h = await createHarness("upload-sha256-fs");
    await h.startWorker();
    a = await rawDevice(h.broker, "ROBOT-A");
  });

  afterAll(async () => {
    await a?.close();
    await h?.close();
  });

  it("records the SHA-256 of a file posted without one, as soon as it is stored", async () => {
    const upload = await form(a, h.seed.openA, "plain.txt");
    expect(Object.keys(upload.fields).filter((name) => name.startsWith("x-amz-checksum"))).toEqual([]);
    expect(await post(upload, "no digest given")).toEqual({ status: 204 });
    expect(await fileRow(h, "plain.txt")).toMatchObject({ state: "uploaded", sha256: sha256("no digest given"), arrivedVia: "form" });
  });

  it("binds the form to the request's sha256: the file with it is recorded, other bytes are refused and kept nowhere", async () => {
    const upload = await form(a, h.seed.openA, "bound.txt", { sha256: sha256("meant").toUpperCase() });
    expect(upload.fields).toMatchObject({ "x-amz-checksum-algorithm": "SHA256" });
    expect(await post(upload, "not meant")).toEqual({ status: 400, code: "BadDigest" });
    expect(await h.store.head(upload.object_key)).toBeNull();
    expect(await fileRow(h, "bound.txt")).toMatchObject({ state: "pending", sha256: null, expectedSha256: sha256("meant") });

    expect(await post(upload, "meant")).toEqual({ status: 204 });
    expect(await fileRow(h, "bound.txt")).toMatchObject({ state: "uploaded", sha256: sha256("meant") });
    expect(await a.ask("file_upload/complete", { object_key: upload.object_key })).toMatchObject({ success: true, state: "uploaded" });
  });

  it("refuses a sha256 that is not 64 hexadecimal digits (400 invalid_checksum)", async () => {
    const answer = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "bad.txt", sha256: "abc" });
    expect(answer).toMatchObject({ success: false, status: 400, code: "invalid_checksum" });
  });

  it("a fresh form without a digest forgets the digest of the previous request", async () => {
    await form(a, h.seed.openA, "again.txt", { sha256: sha256("one") });
    const upload = await form(a, h.seed.openA, "again.txt");
    expect(await fileRow(h, "again.txt")).toMatchObject({ expectedSha256: null });
    expect(await post(upload, "two")).toEqual({ status: 204 });
    expect(await fileRow(h, "again.txt")).toMatchObject({ state: "uploaded", sha256: sha256("two") });
  });
});

describe("S3 store (s3rver: no checksum reported or enforced)", () => {
  let h: THarness;
  let a: TDevice;
  let s3: S3Store;
  let stack: Awaited<ReturnType<typeof startS3Worker>> | undefined;

  beforeAll(async () => {
    stack = await startS3Worker("upload-sha256-s3", path.join(tmp, "s3"));
    ({ h, a, s3 } = stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("records a file posted without a digest at once, then its SHA-256 computed by the worker", async () => {
    const upload = await form(a, h.seed.openA, "s3-plain.txt");
    expect(await post(upload, "hash me later")).toEqual({ status: 204 });
    expect(await a.ask("file_upload/complete", { object_key: upload.object_key })).toMatchObject({ success: true, state: "uploaded" });
    const row = await eventually(h, "s3-plain.txt", (file) => file.sha256 !== null);
    expect(row).toMatchObject({ state: "uploaded", sha256: sha256("hash me later") });
  });

  it("checks the request's sha256 before recording: the file with it is uploaded with its digest", async () => {
    const upload = await form(a, h.seed.openA, "s3-bound.txt", { sha256: sha256("meant") });
    expect(upload.fields).toMatchObject({ "x-amz-checksum-sha256": Buffer.from(sha256("meant"), "hex").toString("base64") });
    expect(await post(upload, "meant")).toEqual({ status: 204 });
    expect(await a.ask("file_upload/complete", { object_key: upload.object_key })).toMatchObject({ success: true, state: "uploaded" });
    expect(await fileRow(h, "s3-bound.txt")).toMatchObject({ state: "uploaded", sha256: sha256("meant") });
  });

  it("the device SDK sends the file's SHA-256 with its request, and the form binds it", async () => {
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const file = path.join(tmp, "sdk.txt");
      await writeFile(file, "sent by the SDK");
      const result = await device.uploadFile({ sessionId: h.seed.openA, path: file, filename: "s3-sdk.txt" });
      expect(result.sha256).toBe(sha256("sent by the SDK"));
      expect(await fileRow(h, "s3-sdk.txt")).toMatchObject({
        state: "uploaded",
        expectedSha256: sha256("sent by the SDK"),
        sha256: sha256("sent by the SDK"),
      });
    } finally {
      await device.close();
    }
  });

  it("never records other bytes than the request's sha256 as uploaded: deleted, the file failed (file_upload/complete)", async () => {
    const upload = await form(a, h.seed.openA, "s3-wrong.txt", { sha256: sha256("meant") });
    // s3rver ignores the checksum fields (AWS S3 would answer 400 BadDigest).
    expect(await post(upload, "not meant")).toEqual({ status: 204 });
    const answer = await a.ask("file_upload/complete", { object_key: upload.object_key });
    expect(answer).toMatchObject({ success: false, status: 400, code: "checksum_mismatch" });
    expect(await fileRow(h, "s3-wrong.txt")).toMatchObject({ state: "failed", sha256: null });
    expect(await s3.head(upload.object_key)).toBeNull();
  });

  it("the sweeper checks the digest the same way: a mismatch fails the file, a match records it with its SHA-256", async () => {
    const wrong = await form(a, h.seed.openA, "s3-swept-wrong.txt", { sha256: sha256("meant") });
    const right = await form(a, h.seed.openA, "s3-swept-right.txt", { sha256: sha256("meant") });
    expect(await post(wrong, "not meant")).toEqual({ status: 204 });
    expect(await post(right, "meant")).toEqual({ status: 204 });
    await h.prisma.file.updateMany({
      where: { sessionId: h.seed.openA, filename: { in: ["s3-swept-wrong.txt", "s3-swept-right.txt"] } },
      data: { nextCheckAt: new Date(Date.now() - 1000) },
    });
    await h.workers[0]!.sweepNow();
    expect(await fileRow(h, "s3-swept-wrong.txt")).toMatchObject({ state: "failed", sha256: null });
    expect(await s3.head(wrong.object_key)).toBeNull();
    expect(await fileRow(h, "s3-swept-right.txt")).toMatchObject({ state: "uploaded", sha256: sha256("meant") });
  });

  it("the sweeper records a file posted without a digest, then the worker computes its SHA-256", async () => {
    const upload = await form(a, h.seed.openA, "s3-swept-plain.txt");
    expect(await post(upload, "swept, hashed later")).toEqual({ status: 204 });
    await h.prisma.file.updateMany({
      where: { sessionId: h.seed.openA, filename: "s3-swept-plain.txt" },
      data: { nextCheckAt: new Date(Date.now() - 1000) },
    });
    await h.workers[0]!.sweepNow();
    const row = await eventually(h, "s3-swept-plain.txt", (file) => file.sha256 !== null);
    expect(row).toMatchObject({ state: "uploaded", sha256: sha256("swept, hashed later") });
  });

  it("hashes a file a dead worker left unhashed once its claim runs out; one whose object is gone stays unknown", async () => {
    const upload = await form(a, h.seed.openA, "s3-crash.txt");
    expect(await post(upload, "hashed after a crash")).toEqual({ status: 204 });
    expect(await a.ask("file_upload/complete", { object_key: upload.object_key })).toMatchObject({ success: true, state: "uploaded" });
    await h.workers[0]!.hashNow();
    const where = { sessionId_filename: { sessionId: h.seed.openA, filename: "s3-crash.txt" } };
    expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ sha256: sha256("hashed after a crash"), sha256DueAt: null });

    // What a worker that died mid-read leaves: no digest, a claim that runs out later.
    await h.prisma.file.update({ where, data: { sha256: null, sha256DueAt: new Date(Date.now() + 600_000) } });
    await h.workers[0]!.hashNow();
    expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ sha256: null });
    await h.prisma.file.update({ where, data: { sha256DueAt: new Date(Date.now() - 1000) } });
    await h.workers[0]!.hashNow();
    expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ sha256: sha256("hashed after a crash"), sha256DueAt: null });

    await h.prisma.file.update({ where, data: { sha256: null, sha256DueAt: new Date(Date.now() - 1000) } });
    await s3.delete(upload.object_key);
    await h.workers[0]!.hashNow();
    expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ state: "uploaded", sha256: null, sha256DueAt: null });
  });
});
