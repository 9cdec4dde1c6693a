/**
 * A used form on S3, where storage cannot refuse it (POST Object has no conditional write):
 * against s3rver, a second POST of a form replaces the object, and the worker must notice it the
 * next time it asks storage, keep what it recorded and audit the replacement.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZUploadResponseSchema, type TUploadResponse } from "@fleetdrop/shared/protocol/upload";
import type { S3Store } from "@fleetdrop/storage/s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { rawDevice, THarness } from "./harness";
import { postContent, startS3Worker } from "./support/forms";

let h: THarness;
let a: Awaited<ReturnType<typeof rawDevice>>;
let s3: S3Store;
let stack: Awaited<ReturnType<typeof startS3Worker>> | undefined;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "fd-upload-trust-s3-"));
  stack = await startS3Worker("upload-trust-s3", path.join(tmp, "s3"));
  ({ h, a, s3 } = stack);
});

afterAll(async () => {
  await stack?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const post = async (upload: TUploadResponse, content: string) => (await postContent(upload, content, tmp)).status;

it("keeps the recorded ETag and audits file.object_replaced when a used form is posted again", async () => {
  const upload = ZUploadResponseSchema.parse(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "s3-once.txt" }));
  expect(await post(upload, "first")).toBe(204);
  const first = await a.ask("file_upload/complete", { object_key: upload.object_key });
  expect(first).toMatchObject({ success: true, state: "uploaded", size: 5 });

  // S3 stores it: nothing in a POST policy can make it refuse.
  expect(await post(upload, "second, longer")).toBe(204);
  expect((await s3.head(upload.object_key))?.size).toBe(14);

  const again = await a.ask("file_upload/complete", { object_key: upload.object_key });
  expect(again).toMatchObject({ success: true, state: "uploaded", size: 5, etag: first.etag });
  const file = await h.prisma.file.findUniqueOrThrow({
    where: { sessionId_filename: { sessionId: h.seed.openA, filename: "s3-once.txt" } },
  });
  expect(file).toMatchObject({ state: "uploaded", size: 5n, etag: first.etag });
  const audit = await h.prisma.auditLog.findFirst({ where: { action: "file.object_replaced", targetId: file.id } });
  expect(audit).toMatchObject({ actorType: "device", actorLabel: "ROBOT-A" });
  expect(audit!.details).toMatchObject({ recorded: { etag: first.etag, size: 5 }, found: { size: 14 }, via: "device" });
});

it("notices a replacement the device never reports: uploaded files are looked at once more after their form expired", async () => {
  const upload = ZUploadResponseSchema.parse(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "s3-quiet.txt" }));
  expect(await post(upload, "first")).toBe(204);
  const first = await a.ask("file_upload/complete", { object_key: upload.object_key });
  expect(first).toMatchObject({ success: true, state: "uploaded", size: 5 });
  const where = { sessionId_filename: { sessionId: h.seed.openA, filename: "s3-quiet.txt" } };
  // The check waits for the form to expire (with the upload grace).
  const recorded = await h.prisma.file.findUniqueOrThrow({ where });
  expect(recorded.replacementCheckAt!.getTime()).toBeGreaterThan(recorded.expiresAt.getTime());

  expect(await post(upload, "replaced quietly")).toBe(204);
  await h.workers[0]!.sweepNow();
  expect(await h.prisma.auditLog.count({ where: { action: "file.object_replaced", targetId: recorded.id } })).toBe(0);

  await h.prisma.file.update({
    where,
    data: { expiresAt: new Date(Date.now() - 400_000), replacementCheckAt: new Date(Date.now() - 1000) },
  });
  await h.workers[0]!.sweepNow();
  const file = await h.prisma.file.findUniqueOrThrow({ where });
  expect(file).toMatchObject({ state: "uploaded", size: 5n, etag: first.etag, replacementCheckAt: null });
  const audit = await h.prisma.auditLog.findFirst({ where: { action: "file.object_replaced", targetId: file.id } });
  expect(audit!.details).toMatchObject({ recorded: { etag: first.etag, size: 5 }, found: { size: 16 }, via: "sweeper" });
});
