/**
 * Completing a multipart upload, and dropping one: shared by the device's requests and the
 * sweep that takes over what a dead worker left (multipart-sweep.ts).
 *
 * A completion runs in steps, each safe to run again: the row is `completing` (claimed), the
 * parts are listed and checked, storage joins them, the object is checked (size, SHA-256), the
 * file is recorded as uploaded, the row becomes `completed`. A worker killed anywhere leaves the
 * row `completing`; once its heartbeat is stale the sweep (or the device asking again) runs the
 * whole completion again: storage that already joined the parts answers NoSuchUpload, and the
 * object is then checked and recorded as if just joined.
 */
import { createHash } from "node:crypto";
import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { InvalidPartError, NoSuchUploadError, type Store, type TObjectInfo, type TStoredPart } from "@fleetdrop/storage/store";
import { recordStoredObject } from "../db/files";
import type { Logger } from "../logger";
import { heartbeat, moveUpload, releaseFile, touchUpload, type TMultipartRow } from "./multipart-db";

export type TCompletionDeps = {
  pool: Pool;
  store: Store;
  log: Logger;
  ttlSeconds: number;
  /** How often a worker working on a row refreshes it; a row this many seconds × 4 quiet is taken over. */
  heartbeatSeconds: number;
  onCompleted?: () => void;
};

export type TCompleted = { fileId: string; objectKey: string; size: number; etag: string };

/** Part numbers listed in an `incomplete` answer, at most. */
const MISSING_LISTED = 100;

/** Runs `work` while refreshing the row's heartbeat, so no other worker takes it over meanwhile. */
async function withHeartbeat<T>(deps: TCompletionDeps, id: string, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    heartbeat(deps.pool, id).catch((error: unknown) => deps.log.warn({ err: error, upload: id }, "multipart heartbeat failed"));
  }, deps.heartbeatSeconds * 1000);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Back to `open` (the device sends what is missing) and answers `error`. */
async function reopen(deps: TCompletionDeps, row: TMultipartRow, error: ProtocolError): Promise<never> {
  await moveUpload(deps.pool, row.id, ["completing"], "open");
  await touchUpload(deps.pool, row.id, deps.ttlSeconds);
  throw error;
}

/** Drops the upload from storage and records it aborted; the file row goes to the pending sweeper (or `failed`). */
export async function dropUpload(deps: TCompletionDeps, row: TMultipartRow, file: "check" | "failed" = "check"): Promise<void> {
  await withHeartbeat(deps, row.id, () => deps.store.abortMultipart(row.objectKey, row.storeUploadId));
  await moveUpload(deps.pool, row.id, ["aborting", "completing", "open"], "aborted");
  await releaseFile(deps.pool, row.fileId, file);
}

/** Checks the parts, has storage join them, checks the object and records it. `row` is `completing` (claimed by the caller). */
export async function finishCompletion(deps: TCompletionDeps, row: TMultipartRow): Promise<TCompleted> {
  return withHeartbeat(deps, row.id, async () => {
    if (row.sessionState !== "open") {
      await moveUpload(deps.pool, row.id, ["completing"], "aborting");
      await dropUpload(deps, row);
      throw new ProtocolError("session_closed", "The session was closed: the multipart upload is dropped");
    }
    const count = Math.ceil(row.size / row.partSize);
    let info: TObjectInfo | null = null;
    let parts: TStoredPart[] | null = null;
    try {
      parts = await deps.store.listParts(row.objectKey, row.storeUploadId);
    } catch (error) {
      if (!(error instanceof NoSuchUploadError)) throw error;
      // Joined before a crash (or dropped): the object tells which.
      const found = await deps.store.head(row.objectKey);
      if (found && found.size === row.size && found.lastModified.getTime() >= row.createdAt.getTime() - 5000) info = found;
      else {
        await moveUpload(deps.pool, row.id, ["completing"], "aborted");
        await releaseFile(deps.pool, row.fileId, "check");
        throw new ProtocolError("multipart_not_found", "Storage no longer holds this multipart upload");
      }
    }
    if (parts) {
      const byNumber = new Map(parts.map((part) => [part.partNumber, part]));
      const missing: number[] = [];
      const wrongSize: number[] = [];
      for (let n = 1; n <= count; n++) {
        const part = byNumber.get(n);
        if (!part) missing.push(n);
        else if (part.size !== Math.min(row.partSize, row.size - (n - 1) * row.partSize)) wrongSize.push(n);
      }
      if (missing.length > 0)
        await reopen(
          deps,
          row,
          new ProtocolError("incomplete", `${missing.length} of ${count} parts are missing: send them, then complete again`, {
            missing: missing.slice(0, MISSING_LISTED),
          }),
        );
      if (wrongSize.length > 0)
        await reopen(
          deps,
          row,
          new ProtocolError("size_mismatch", "Parts of the wrong size are held: send them again, then complete again", {
            wrong_size: wrongSize.slice(0, MISSING_LISTED),
          }),
        );
      try {
        info = await deps.store.completeMultipart(
          row.objectKey,
          row.storeUploadId,
          Array.from({ length: count }, (_, index) => ({ partNumber: index + 1, etag: byNumber.get(index + 1)!.etag })),
        );
      } catch (error) {
        if (error instanceof InvalidPartError) await reopen(deps, row, new ProtocolError("incomplete", error.message, { missing: [] }));
        throw error;
      }
    }
    const stored = info!;
    if (stored.size !== row.size || (row.sha256 && (await sha256Of(deps.store, row.objectKey)) !== row.sha256)) {
      // Nothing is kept of a file that is not the one announced.
      await deps.store.delete(row.objectKey);
      await moveUpload(deps.pool, row.id, ["completing"], "aborted");
      await releaseFile(deps.pool, row.fileId, "failed");
      if (stored.size !== row.size)
        throw new ProtocolError("size_mismatch", `Storage joined ${stored.size} bytes, not the ${row.size} announced; nothing was kept`);
      throw new ProtocolError("checksum_mismatch");
    }
    const marked = await recordStoredObject(
      deps.pool,
      {
        deviceId: row.device,
        sessionId: row.sessionId,
        filename: row.filename,
        objectKey: row.objectKey,
        size: stored.size,
        etag: stored.etag,
        contentType: stored.contentType ?? row.contentType,
      },
      { via: "device", log: deps.log },
    );
    // The digest was checked against the joined object above: the file page can show it.
    if (row.sha256 && marked)
      await runTyped(deps.pool, typedSql.updateTable("files").set({ sha256: row.sha256 }).where("id", "=", row.fileId));
    await moveUpload(deps.pool, row.id, ["completing"], "completed", { etag: stored.etag });
    if (marked?.changed) deps.onCompleted?.();
    return { fileId: row.fileId, objectKey: row.objectKey, size: stored.size, etag: stored.etag };
  });
}

async function sha256Of(store: Store, key: string): Promise<string | null> {
  const opened = await store.open(key);
  if (!opened) return null;
  const hash = createHash("sha256");
  for await (const chunk of opened.body) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
