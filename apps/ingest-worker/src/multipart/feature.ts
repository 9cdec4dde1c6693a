/**
 * Multipart uploads over HTTPS (docs/protocol.md#multipart-uploads) in the worker: the four
 * `file_upload/multipart/…` operations, the fs endpoint's check of each part, and the sweep that
 * aborts idle uploads and finishes what a dead worker left.
 *
 * Sessions, names and keys follow the single-upload rules by going through the same code: the
 * file row is written by recordUploadRequests (device, session, `file_exists`, `path_conflict`,
 * overwrite), the key is sessionObjectKey, and completion records the object like
 * `file_upload/complete` (recordStoredObject).
 */
import { randomBytes } from "node:crypto";
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { fileExistsError } from "@fleetdrop/shared/protocol/common";
import { MAX_SESSION_ID, sessionObjectKey } from "@fleetdrop/shared/names";
import { defaultPartSize, MULTIPART_MAX_PARTS, MULTIPART_PAGE_MAX } from "@fleetdrop/shared/protocol/multipart";
import { DEFAULT_CONTENT_TYPE } from "@fleetdrop/shared/names";
import type { TOperationAnswerBody } from "@fleetdrop/shared/operations";
import type { TAdmitPart } from "@fleetdrop/storage/fs-upload-endpoint";
import { InvalidObjectKeyError, NoSuchUploadError, type Store } from "@fleetdrop/storage/store";
import { recordUploadRequests } from "../db/upload-requests";
import type { Logger } from "../logger";
import type { TWorkerFeature } from "../feature";
import type { THandler } from "../router";
import type { TObjectHasher } from "../digests/hasher";
import { dropUpload, finishCompletion, type TCompletionDeps } from "./completion";
import {
  countOpenUploads,
  findDueUploads,
  findOpenUploadOfFile,
  findPartTarget,
  findUploadOfDevice,
  insertUpload,
  liveStoreUploadIds,
  moveUpload,
  touchUpload,
  type TMultipartRow,
} from "./multipart-db";

export type TMultipartSettings = {
  /** The largest file (bytes); at most 5 TiB. */
  maxFileBytes: number;
  /** An open upload nobody asked about for this long is aborted (seconds). */
  ttlSeconds: number;
  /** Open uploads per device. */
  maxOpenPerDevice: number;
  /** A worker completing or aborting refreshes its row this often; 4 × this quiet, another takes over (seconds). */
  heartbeatSeconds: number;
  /** How often the sweep runs (ms). */
  sweepIntervalMs: number;
};

export const DEFAULT_MULTIPART_SETTINGS: TMultipartSettings = {
  maxFileBytes: 1024 * 1024 * 1024 * 1024,
  ttlSeconds: 24 * 3600,
  maxOpenPerDevice: 16,
  heartbeatSeconds: 15,
  sweepIntervalMs: 60_000,
};

/** Storage uploads nobody recorded (a crash between creating one and writing its row) are dropped after this long. */
const ORPHAN_AGE_MS = 10 * 60 * 1000;

export type TMultipartFeatureDeps = {
  pool: Pool;
  store: Store;
  settings?: Partial<TMultipartSettings>;
  /** How long part URLs stay valid (UPLOAD_EXPIRES_IN). */
  urlExpiresInSeconds: number;
  log: Logger;
  /** Computes the SHA-256 of a completed upload whose create gave none. */
  hasher?: TObjectHasher;
  onCompleted?: () => void;
};

export type TMultipartFeature = TWorkerFeature & {
  readonly settings: TMultipartSettings;
  /** The fs endpoint's check of each part. */
  readonly admitPart: TAdmitPart;
  /** Runs the sweep (expiry, interrupted completions, orphans) once now. */
  sweep(): Promise<{ aborted: number; completed: number; orphans: number }>;
};

export function createMultipartFeature(deps: TMultipartFeatureDeps): TMultipartFeature {
  const settings = { ...DEFAULT_MULTIPART_SETTINGS, ...deps.settings };
  const { pool, store } = deps;
  const completion: TCompletionDeps = {
    pool,
    store,
    log: deps.log,
    ttlSeconds: settings.ttlSeconds,
    heartbeatSeconds: settings.heartbeatSeconds,
    ...(deps.hasher ? { hasher: deps.hasher } : {}),
    ...(deps.onCompleted ? { onCompleted: deps.onCompleted } : {}),
  };
  const staleAfterSeconds = settings.heartbeatSeconds * 4;

  async function uploadOf(id: string, deviceId: string): Promise<TMultipartRow> {
    const row = await findUploadOfDevice(pool, id, deviceId);
    if (!row || row.state === "aborted" || row.state === "aborting") throw new ProtocolError("multipart_not_found");
    return row;
  }

  /** A page of parts: those held, and URLs for the others. */
  async function page(row: TMultipartRow, firstPart: number, count: number): Promise<TOperationAnswerBody<"multipartParts">> {
    const partCount = Math.ceil(row.size / row.partSize);
    if (firstPart > partCount)
      throw new ProtocolError("invalid_part_number", `first_part must be from 1 to the upload's part count, ${partCount}`);
    let held: Set<number>;
    try {
      held = new Set((await store.listParts(row.objectKey, row.storeUploadId)).map((part) => part.partNumber));
    } catch (error) {
      if (error instanceof NoSuchUploadError) throw new ProtocolError("multipart_not_found", "Storage no longer holds this upload");
      throw error;
    }
    const last = Math.min(partCount, firstPart + count - 1);
    const numbers = Array.from({ length: last - firstPart + 1 }, (_, index) => firstPart + index);
    const parts = await Promise.all(
      numbers
        .filter((n) => !held.has(n))
        .map(async (n) => ({
          part_number: n,
          url: await store.presignPart({
            key: row.objectKey,
            uploadId: row.storeUploadId,
            partNumber: n,
            expiresIn: deps.urlExpiresInSeconds,
          }),
        })),
    );
    await touchUpload(pool, row.id, settings.ttlSeconds);
    return {
      upload_id: row.id,
      file_id: row.fileId,
      object_key: row.objectKey,
      size: row.size,
      part_size: row.partSize,
      part_count: partCount,
      expires_in: deps.urlExpiresInSeconds,
      held: numbers.filter((n) => held.has(n)),
      parts,
      next_part: last < partCount ? last + 1 : null,
    };
  }

  const multipartCreate: THandler<"multipartCreate"> = {
    async handle(message, { deviceId }) {
      const size = message.size;
      if (size > settings.maxFileBytes)
        throw new ProtocolError(
          "file_too_large",
          `size ${size} is above this platform's multipart limit of ${settings.maxFileBytes} bytes`,
        );
      const partSize = message.part_size ?? defaultPartSize(size);
      if (Math.ceil(size / partSize) > MULTIPART_MAX_PARTS)
        throw new ProtocolError("invalid_part_size", `part_size ${partSize} would make more than ${MULTIPART_MAX_PARTS} parts`);
      if (message.session_id > MAX_SESSION_ID) throw new ProtocolError("session_not_found");
      const objectKey = sessionObjectKey(deviceId, message.session_id, message.filename);
      const contentType = message.content_type ?? DEFAULT_CONTENT_TYPE;
      const sha256 = message.sha256 ?? null;

      // Asking again for the same file resumes its open upload (a device that lost its answer or its state).
      const existing = await findOpenUploadOfFile(pool, deviceId, objectKey);
      if (
        existing &&
        existing.sessionState === "open" &&
        existing.size === size &&
        existing.partSize === partSize &&
        existing.sha256 === sha256 &&
        existing.contentType === contentType
      )
        return page(existing, 1, MULTIPART_PAGE_MAX);
      if (existing) {
        // Another file under the same name replaces the upload, as a fresh form replaces the old one.
        const claimed = await moveUpload(pool, existing.id, ["open"], "aborting");
        if (claimed) await dropUpload(completion, claimed);
      }
      if ((await countOpenUploads(pool, deviceId)) >= settings.maxOpenPerDevice) throw new ProtocolError("too_many_multipart_uploads");

      const [outcome] = await recordUploadRequests(
        pool,
        [
          {
            deviceId,
            sessionId: message.session_id,
            filename: message.filename,
            objectKey,
            contentType,
            sizeLimit: size,
            requestId: message.request_id ?? null,
            overwrite: message.overwrite === true,
            arrivedVia: "multipart",
            // Whoever records the joined object (the completion, or the sweeper after a crash) checks it.
            expectedSha256: message.sha256 ?? null,
          },
        ],
        { expiresInSeconds: settings.ttlSeconds, firstCheckAfterSeconds: null },
      );
      if (!outcome?.ok)
        throw outcome?.existing ? fileExistsError(outcome.existing) : new ProtocolError(outcome?.code ?? "database_unavailable");
      let storeUploadId: string;
      try {
        ({ uploadId: storeUploadId } = await store.createMultipart({ key: objectKey, contentType, size, partSize }));
      } catch (error) {
        if (error instanceof InvalidObjectKeyError)
          throw new ProtocolError("invalid_filename", `filename cannot be stored: ${error.message}`);
        throw error;
      }
      const id = `mp_${randomBytes(16).toString("hex")}`;
      await insertUpload(pool, {
        id,
        serial: deviceId,
        sessionId: message.session_id,
        fileId: outcome.fileId,
        objectKey,
        storeUploadId,
        contentType,
        size,
        partSize,
        sha256,
        ttlSeconds: settings.ttlSeconds,
      });
      const row = await findUploadOfDevice(pool, id, deviceId);
      if (!row) throw new ProtocolError("internal_error");
      return page(row, 1, MULTIPART_PAGE_MAX);
    },
  };

  const multipartParts: THandler<"multipartParts"> = {
    async handle(message, { deviceId }) {
      const row = await uploadOf(message.upload_id, deviceId);
      if (row.state === "completed") throw new ProtocolError("multipart_completed");
      if (row.sessionState !== "open") throw new ProtocolError("session_closed");
      return page(row, message.first_part ?? 1, message.count ?? MULTIPART_PAGE_MAX);
    },
  };

  const multipartComplete: THandler<"multipartComplete"> = {
    async handle(message, { deviceId }) {
      const row = await uploadOf(message.upload_id, deviceId);
      const done = (completed: { fileId: string; objectKey: string; size: number; etag: string }) => ({
        upload_id: row.id,
        file_id: completed.fileId,
        object_key: completed.objectKey,
        state: "uploaded" as const,
        size: completed.size,
        etag: completed.etag,
      });
      if (row.state === "completed") return done({ fileId: row.fileId, objectKey: row.objectKey, size: row.size, etag: row.etag ?? "" });
      // An open upload, or a completion whose worker went quiet (it died): this request completes it.
      const claimed = await moveUpload(pool, row.id, ["open", "completing"], "completing", { staleAfterSeconds });
      if (!claimed) throw new ProtocolError("storage_unavailable", "The upload is being completed; ask again in a moment");
      return done(await finishCompletion(completion, claimed));
    },
  };

  const multipartAbort: THandler<"multipartAbort"> = {
    async handle(message, { deviceId }) {
      const row = await findUploadOfDevice(pool, message.upload_id, deviceId);
      if (!row) throw new ProtocolError("multipart_not_found");
      if (row.state === "completed") throw new ProtocolError("multipart_completed");
      if (row.state === "aborted") return { upload_id: row.id, state: "aborted" as const };
      const claimed = await moveUpload(pool, row.id, ["open", "aborting"], "aborting", { staleAfterSeconds });
      if (!claimed) throw new ProtocolError("multipart_completed", "The upload is being completed");
      await dropUpload(completion, claimed);
      return { upload_id: row.id, state: "aborted" as const };
    },
  };

  /** The fs endpoint asks before it reads a part: the upload is open, unexpired, and its session too. */
  const admitPart: TAdmitPart = async ({ store: partStore, key, uploadId }) => {
    if (partStore !== store) return { status: 403, code: "AccessDenied", message: "Multipart uploads go to the sessions store only." };
    const target = await findPartTarget(pool, uploadId, key);
    if (!target || target.state !== "open" || target.expired)
      return { status: 403, code: "AccessDenied", message: "No multipart upload is open for this key and upload id." };
    if (target.sessionState !== "open")
      return { status: 403, code: "AccessDenied", message: "The session was closed: its uploads take no more parts." };
    return null;
  };

  /**
   * Aborts open uploads past their expiry, finishes completions and aborts whose worker died, and
   * drops storage uploads no row owns (a crash between creating one and recording it).
   */
  async function sweep(): Promise<{ aborted: number; completed: number; orphans: number }> {
    let aborted = 0;
    let completed = 0;
    for (const due of await findDueUploads(pool, staleAfterSeconds, 100)) {
      const from = due.state === "open" ? (["open"] as const) : ([due.state] as const);
      const to = due.state === "completing" ? "completing" : "aborting";
      const claimed = await moveUpload(pool, due.id, from, to, { staleAfterSeconds });
      if (!claimed) continue;
      try {
        if (to === "completing") {
          await finishCompletion(completion, claimed);
          completed++;
        } else {
          await dropUpload(completion, claimed);
          aborted++;
        }
      } catch (error) {
        // A refusal (incomplete, mismatch) is the device's to hear; the row is already where it belongs.
        if (!(error instanceof ProtocolError) || error.status >= 500) throw error;
      }
    }
    let orphans = 0;
    let uploads: Awaited<ReturnType<Store["listMultipartUploads"]>> = [];
    try {
      uploads = await store.listMultipartUploads("sessions/");
    } catch (error) {
      if (!orphanListingFailed)
        deps.log.warn({ err: error }, "cannot list the storage's multipart uploads; orphaned uploads are not looked for");
      orphanListingFailed = true;
    }
    const old = uploads.filter((upload) => upload.initiated.getTime() < Date.now() - ORPHAN_AGE_MS);
    const live = await liveStoreUploadIds(
      pool,
      old.map((upload) => upload.uploadId),
    );
    for (const upload of old) {
      if (live.has(upload.uploadId)) continue;
      await store.abortMultipart(upload.key, upload.uploadId);
      orphans++;
    }
    if (aborted + completed + orphans > 0) deps.log.info({ aborted, completed, orphans }, "multipart sweep");
    return { aborted, completed, orphans };
  }
  let orphanListingFailed = false;

  return {
    name: "multipart",
    settings,
    admitPart,
    sweep,
    handlers: { multipartCreate, multipartParts, multipartComplete, multipartAbort },
    // At start too: a completion a dead worker left is finished once its heartbeat is stale.
    jobs: [{ name: "multipart-sweep", intervalMs: settings.sweepIntervalMs, run: sweep, immediate: true }],
  };
}
