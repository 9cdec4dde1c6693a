/**
 * What a device upload does to the platform, done directly, for tests and benchmarks:
 *   1. `requestUpload` — the ingest worker answering `file_upload/request`: a `pending` row.
 *   2. `completeUpload` — the device POSTing the form (here: `store.put`), then the worker
 *      learning storage has it: `pending → uploaded` with size, ETag, stored type, time.
 *
 * Only the world's seed uses this (before the worker starts, and for the benchmarks' bulk data).
 * Uploads *during* a test go through the real ingest worker with the device SDK
 * (support/platform.ts, support/sdk-device.ts).
 */
import type { TPrismaClient } from "@fleetdrop/db";
import { sessionObjectKey } from "@fleetdrop/shared/names";
import type { Store } from "@fleetdrop/storage/store";

export type TUploadTarget = { prisma: TPrismaClient; store: Store; deviceSerial: string; sessionId: number };

export async function requestUpload(target: TUploadTarget, filename: string, contentType: string, sizeMb = 100) {
  const objectKey = sessionObjectKey(target.deviceSerial, target.sessionId, filename);
  return target.prisma.file.upsert({
    where: { sessionId_filename: { sessionId: target.sessionId, filename } },
    update: { state: "pending", issuedAt: new Date(), expiresAt: new Date(Date.now() + 3600_000) },
    create: {
      sessionId: target.sessionId,
      filename,
      objectKey,
      contentType,
      sizeLimit: BigInt(sizeMb) * 1024n * 1024n,
      state: "pending",
      expiresAt: new Date(Date.now() + 3600_000),
    },
    select: { id: true, objectKey: true },
  });
}

export async function completeUpload(target: TUploadTarget, filename: string, body: Uint8Array | string, contentType: string) {
  const objectKey = sessionObjectKey(target.deviceSerial, target.sessionId, filename);
  await target.store.put(objectKey, body, { contentType });
  const info = await target.store.head(objectKey);
  if (!info) throw new Error(`storage does not hold ${objectKey}`);
  return target.prisma.file.update({
    where: { sessionId_filename: { sessionId: target.sessionId, filename } },
    data: {
      state: "uploaded",
      size: BigInt(info.size),
      etag: info.etag,
      storedContentType: info.contentType ?? contentType,
      uploadedAt: new Date(),
    },
    select: { id: true },
  });
}

/** Both steps: a file that lands. */
export async function uploadFile(target: TUploadTarget, filename: string, body: Uint8Array | string, contentType: string) {
  await requestUpload(target, filename, contentType);
  return completeUpload(target, filename, body, contentType);
}
