/**
 * File transfer over MQTT (docs/protocol.md#file_transfer): the raw route for `P/fleet/D/file_transfer/{file_id}/…`.
 *
 * - init: validate, create the transfer (or, when it exists with the same metadata, answer with
 *   the ranges already held so the device resumes); different metadata is a 409.
 * - segment: staged durably in PostgreSQL (group commit) before its PUBACK; answered only on error
 *   (or when an MQTT 5 device asked with a Response Topic).
 * - fin: under a per-transfer lock, assemble from the staged segments into the session's storage
 *   checking size and SHA-256; 409 `incomplete` with the missing ranges when there are gaps. A
 *   file already uploaded under the name is refused (409 `file_exists`) unless the init said
 *   `overwrite` (overwrite.ts).
 * - status: the held ranges. abort: drop the transfer and its segments.
 */
import { ProtocolError } from "@fleetdrop/shared/errors";
import { ADVISORY_LOCK } from "@fleetdrop/db/advisory-locks";
import { MAX_SESSION_ID, sessionObjectKey } from "@fleetdrop/shared/names";
import { decodeJsonObject, fileExistsError, usableRequestId, validateMessage } from "@fleetdrop/shared/protocol/common";
import {
  missingRanges,
  normaliseTransferInit,
  TRANSFER_COMMAND_FIELD_CODES,
  TRANSFER_INIT_FIELD_CODES,
  ZTransferCommandSchema,
  ZTransferInitSchema,
  type TByteRange,
} from "@fleetdrop/shared/protocol/transfer";
import { TRANSFER_OPERATIONS } from "@fleetdrop/shared/operations";
import type { TTopics, TTransferTopic } from "@fleetdrop/shared/topics";
import type { Pool } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";
import type { Logger } from "../logger";
import type { TRawRoute, THandlerContext } from "../router";
import { assembleTransfer } from "./assemble";
import { GroupCommit } from "./group-commit";
import type { TTransferMetrics } from "./metrics";
import { TransferOrdering } from "./ordering";
import type { FileStaging } from "./file-staging";
import { reopenForOverwrite, restoreReopened, type TReopenedFile } from "./overwrite";
import { writeSegments, type TSegmentOutcome, type TSegmentWrite } from "./segments-db";
import { ActiveTransfers, writeSegmentsViaFiles } from "./segments-fs";
import { canAdopt, EagerAssembler, type TStagedSegment } from "./eager-assembly";
import {
  completeTransfer,
  completedFile,
  createTransfer,
  deleteActiveTransfer,
  deleteSegments,
  findTransfer,
  finRefusal,
  heldRanges,
  loadInitContext,
  touchTransfer,
  type TTransferRecord,
} from "./transfers-db";

export type TTransferLimits = {
  /** Largest file a device may send over MQTT, bytes (413 transfer_too_large). */
  maxFileBytes: number;
  /** Largest segment payload, bytes (413 segment_too_large). */
  maxSegmentBytes: number;
  /** Active transfers per device (429 too_many_transfers). */
  maxActivePerDevice: number;
  /**
   * `fin`s assembled at once by this worker. Each holds up to two database connections (the
   * transfer's lock, then the read or the completion), so this stays well below the pool size.
   */
  maxConcurrentAssemblies?: number;
};

export type TTransferRouteDeps = {
  topics: TTopics;
  pool: Pool;
  store: Store;
  limits: TTransferLimits;
  metrics: TTransferMetrics;
  log: Logger;
  /** Stage segment bytes in files (TRANSFER_STAGING_DIR) instead of PostgreSQL. */
  staging?: FileStaging | null;
  /** With file staging and the fs store: transfers assembled while their segments arrive (0: none). */
  eagerAssemblies?: number;
  /** Called when a transferred file was stored and recorded (the worker counts it). */
  onStored?(): void;
  /**
   * TRANSFER_TTL, seconds: how long a file being replaced by an `overwrite` transfer may stay
   * pending when a crash interrupts its fin (overwrite.ts). Default 24 h.
   */
  ttlSeconds?: number;
};

type TParams = TTransferTopic;

/** JSON with object keys sorted: how a re-init's user_data is compared with what jsonb kept. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function segmentError(outcome: Exclude<TSegmentOutcome, { ok: true }>, limits: TTransferLimits): ProtocolError {
  switch (outcome.code) {
    case "segment_out_of_range":
      return new ProtocolError("segment_out_of_range", `The segment ends beyond the size given at init (${outcome.size} bytes)`, {
        size: outcome.size,
      });
    case "transfer_too_large":
      return new ProtocolError(
        "transfer_too_large",
        `The segment ends beyond ${limits.maxFileBytes} bytes, the largest file accepted over MQTT`,
      );
    default:
      return new ProtocolError(outcome.code);
  }
}

export function createTransferRoute(
  deps: TTransferRouteDeps,
): TRawRoute<TParams> & { drain(): Promise<void>; eager: EagerAssembler | null } {
  const { topics, pool, store, limits, metrics } = deps;
  const ordering = new TransferOrdering();
  const staging = deps.staging ?? null;
  const eager =
    staging && canAdopt(store) && (deps.eagerAssemblies ?? 0) > 0 ? new EagerAssembler(staging, store, deps.eagerAssemblies!) : null;
  const onStaged = eager
    ? (transfer: { id: string; serial: string; sessionId: number; name: string; contentType: string }, writes: TStagedSegment[]) =>
        eager.staged(
          {
            id: transfer.id,
            objectKey: sessionObjectKey(transfer.serial, transfer.sessionId, transfer.name),
            contentType: transfer.contentType,
          },
          writes,
        )
    : undefined;
  const assemblies = new Semaphore(Math.max(1, limits.maxConcurrentAssemblies ?? 2));
  const ttlSeconds = deps.ttlSeconds ?? 24 * 3600;
  const activeTransfers = new ActiveTransfers();
  const segments = new GroupCommit<TSegmentWrite, TSegmentOutcome>(
    (items) =>
      staging
        ? writeSegmentsViaFiles(pool, staging, items, limits.maxFileBytes, onStaged, activeTransfers)
        : writeSegments(pool, items, limits.maxFileBytes),
    {
      // PostgreSQL: two batches of up to 2 MiB in flight keep it busy, and each batch is copied
      // once more into the statement. Files: segments are written from their own buffers, so a
      // batch may take all that is waiting (the inbound budget bounds it): fewer fdatasyncs.
      maxItems: staging ? 1024 : 128,
      maxBytes: staging ? 64 * 1024 * 1024 : 2 * 1024 * 1024,
      maxConcurrent: 2,
      weigh: (item) => item.data.length,
      onBatch: (_items, bytes, seconds) => {
        metrics.batchBytes.observe(bytes);
        metrics.batchDuration.observe(seconds);
      },
    },
  );

  async function transferOf(deviceId: string, fileId: string): Promise<TTransferRecord> {
    const found = await findTransfer(pool, deviceId, fileId);
    if (!found.deviceKnown) throw new ProtocolError("device_unknown");
    if (!found.deviceEnabled) throw new ProtocolError("device_disabled");
    if (!found.transfer) throw new ProtocolError("transfer_not_found");
    return found.transfer;
  }

  async function init(deviceId: string, fileId: string, payload: Buffer): Promise<Record<string, unknown>> {
    const message = validateMessage(ZTransferInitSchema, decodeJsonObject(payload), TRANSFER_INIT_FIELD_CODES);
    const wanted = normaliseTransferInit(message);
    if (wanted.size !== null && wanted.size > limits.maxFileBytes) {
      throw new ProtocolError(
        "transfer_too_large",
        `size ${wanted.size} is above the largest file accepted over MQTT (${limits.maxFileBytes} bytes)`,
      );
    }
    if (wanted.sessionId > MAX_SESSION_ID) throw new ProtocolError("session_not_found");

    const sameAs = (transfer: TTransferRecord) =>
      transfer.sessionId === wanted.sessionId &&
      transfer.name === wanted.name &&
      transfer.size === wanted.size &&
      transfer.contentType === wanted.contentType &&
      transfer.checksum === wanted.checksum &&
      transfer.overwrite === wanted.overwrite &&
      canonical(transfer.userData) === canonical(wanted.userData);
    const resume = async (transfer: TTransferRecord) => {
      if (transfer.state === "completed") throw new ProtocolError("transfer_completed");
      if (!sameAs(transfer)) throw new ProtocolError("transfer_conflict");
      await touchTransfer(pool, transfer.id);
      return { state: transfer.state, size: transfer.size, received: await heldRanges(pool, transfer.id) };
    };

    for (let attempt = 0; attempt < 2; attempt++) {
      const context = await loadInitContext(pool, { serial: deviceId, fileRef: fileId, sessionId: wanted.sessionId, name: wanted.name });
      if (!context.device) throw new ProtocolError("device_unknown");
      if (!context.device.enabled) throw new ProtocolError("device_disabled");
      if (context.transfer) return resume(context.transfer);
      if (!context.session) throw new ProtocolError("session_not_found");
      if (context.session.deviceUuid !== context.device.id) throw new ProtocolError("session_not_owned");
      if (context.session.state !== "open") throw new ProtocolError("session_closed");
      if (context.existing && !wanted.overwrite) throw fileExistsError(context.existing);
      const created = await createTransfer(pool, { deviceUuid: context.device.id, fileRef: fileId, ...wanted }, limits.maxActivePerDevice);
      if (created === "limit") {
        throw new ProtocolError(
          "too_many_transfers",
          `This device already has ${limits.maxActivePerDevice} transfers in progress; finish or abort one`,
        );
      }
      if (created === "created") return { state: "active", size: wanted.size, received: [] };
      // "exists": another worker created it between our read and insert: compare with it.
    }
    throw new ProtocolError("internal_error");
  }

  async function segment(deviceId: string, fileId: string, offset: number, payload: Buffer): Promise<Record<string, unknown>> {
    if (payload.length === 0) throw new ProtocolError("invalid_segment");
    if (payload.length > limits.maxSegmentBytes) {
      throw new ProtocolError("segment_too_large", `Segments are at most ${limits.maxSegmentBytes} bytes; this one has ${payload.length}`);
    }
    if (offset + payload.length > limits.maxFileBytes) {
      throw new ProtocolError(
        "transfer_too_large",
        `The segment ends beyond ${limits.maxFileBytes} bytes, the largest file accepted over MQTT`,
      );
    }
    const outcome = await segments.submit({ serial: deviceId, fileRef: fileId, offset, data: payload });
    if (!outcome.ok) throw segmentError(outcome, limits);
    metrics.segmentBytes.inc(payload.length);
    return {};
  }

  async function fin(
    deviceId: string,
    fileId: string,
    size: number,
    finSha256: string | undefined,
    log: Logger,
  ): Promise<Record<string, unknown>> {
    await transferOf(deviceId, fileId); // refuse unknown transfers without waiting for a slot
    return assemblies.run(() => finLocked(deviceId, fileId, size, finSha256, log));
  }

  async function finLocked(
    deviceId: string,
    fileId: string,
    size: number,
    finSha256: string | undefined,
    log: Logger,
  ): Promise<Record<string, unknown>> {
    const lock = await pool.connect();
    let locked = false;
    try {
      const first = await transferOf(deviceId, fileId);
      // One fin per transfer at a time, across workers (a duplicate fin waits, then sees it done).
      await lock.query("SELECT pg_advisory_lock($1, hashtext($2))", [ADVISORY_LOCK.transferFin, first.id]);
      locked = true;
      const transfer = await transferOf(deviceId, fileId);
      const objectKey = sessionObjectKey(deviceId, transfer.sessionId, transfer.name);
      if (transfer.state === "completed") {
        if (transfer.size !== size) throw new ProtocolError("transfer_completed");
        const file = await completedFile(pool, transfer.fileId);
        metrics.finished.inc({ outcome: "repeated" });
        return {
          size,
          object_key: file?.objectKey ?? objectKey,
          ...(file?.etag ? { etag: file.etag } : {}),
          received: size > 0 ? [[0, size]] : [],
        };
      }
      if (transfer.size !== null && transfer.size !== size) {
        metrics.finished.inc({ outcome: "size_mismatch" });
        throw new ProtocolError("size_mismatch", `fin says ${size} bytes, init said ${transfer.size}`, { size: transfer.size });
      }
      if (finSha256 !== undefined && transfer.checksum !== null && finSha256 !== transfer.checksum) {
        metrics.finished.inc({ outcome: "checksum_mismatch" });
        throw new ProtocolError(
          "checksum_mismatch",
          "The SHA-256 in the fin topic differs from the checksum given at init; nothing was stored",
        );
      }
      // One fin storing into a name at a time, across workers: two transfers of one name (overwrites,
      // or two first versions) store and record one after the other, so the file row and the object
      // end as the same version — and the later one sees the earlier one's file.
      await lock.query("SELECT pg_advisory_lock($1, hashtext($2))", [ADVISORY_LOCK.transferObject, objectKey]);
      const refusal = await finRefusal(pool, transfer.sessionId, transfer.name, transfer.overwrite);
      if (refusal) {
        metrics.finished.inc({ outcome: refusal.code });
        throw refusal.code === "file_exists" ? fileExistsError(refusal.existing) : new ProtocolError(refusal.code);
      }
      // The file an overwrite replaces is set pending while its new bytes are stored (overwrite.ts);
      // only once every range is held, so that a fin answered `incomplete` leaves it alone.
      const reopened =
        transfer.overwrite && missingRanges(await heldRanges(pool, transfer.id), size).length === 0
          ? await reopenForOverwrite(pool, { sessionId: transfer.sessionId, name: transfer.name, pendingSeconds: ttlSeconds })
          : null;
      const stopTimer = metrics.assembleDuration.startTimer();
      const expectedSha256 = finSha256 ?? transfer.checksum;
      let result;
      try {
        const early = eager ? await eager.finish(transfer.id, size, expectedSha256) : ({ outcome: "fallback" } as const);
        if (early.outcome !== "fallback") metrics.finished.inc({ outcome: `eager_${early.outcome}` });
        result =
          early.outcome !== "fallback"
            ? early
            : await assembleTransfer({
                pool,
                store,
                transferId: transfer.id,
                size,
                objectKey,
                contentType: transfer.contentType,
                expectedSha256,
                staging,
              });
      } catch (error) {
        if (reopened) await settleReopened(objectKey, reopened, log);
        throw error;
      }
      stopTimer();
      if (result.outcome !== "stored" && reopened) await settleReopened(objectKey, reopened, log);
      metrics.finished.inc({ outcome: result.outcome });
      switch (result.outcome) {
        case "incomplete":
          throw new ProtocolError("incomplete", undefined, { received: result.received, missing: result.missing });
        case "beyond_size":
          throw new ProtocolError("size_mismatch", `Segments were received beyond ${size} bytes`, { received: result.received });
        case "checksum_mismatch":
          throw new ProtocolError("checksum_mismatch", undefined, { sha256: result.sha256 });
        case "stored":
          break;
      }
      await completeTransfer(pool, {
        transfer,
        serial: deviceId,
        objectKey,
        size: result.size,
        etag: result.etag,
        storedContentType: result.storedContentType,
        sha256: result.sha256,
      });
      deps.onStored?.();
      log.info({ file_id: fileId, object_key: objectKey, size: result.size }, "file transfer stored");
      // Off the answer's path; the clean-up job removes what this misses.
      activeTransfers.forget(transfer.id);
      void Promise.all([deleteSegments(pool, transfer.id), staging?.remove(transfer.id)]).catch((error: unknown) =>
        log.warn({ err: error }, "could not delete the segments of a completed transfer yet"),
      );
      const received: TByteRange[] = size > 0 ? [[0, size]] : [];
      return { size: result.size, object_key: objectKey, sha256: result.sha256, etag: result.etag, received };
    } finally {
      if (locked) await lock.query("SELECT pg_advisory_unlock_all()").catch(() => {});
      lock.release();
    }
  }

  /** After a fin that stored nothing: the replaced file back as it was, or left to the pending sweeper. */
  async function settleReopened(objectKey: string, reopened: TReopenedFile, log: Logger): Promise<void> {
    try {
      if (!(await restoreReopened(pool, store, objectKey, reopened)))
        log.warn(
          { object_key: objectKey },
          "the file an overwrite transfer was to replace is left pending: the sweeper records what storage holds",
        );
    } catch (error) {
      log.warn({ err: error, object_key: objectKey }, "could not put back the file an overwrite transfer was to replace; the sweeper will");
    }
  }

  async function status(deviceId: string, fileId: string): Promise<Record<string, unknown>> {
    const transfer = await transferOf(deviceId, fileId);
    if (transfer.state === "completed") {
      return { state: "completed", size: transfer.size, received: transfer.size ? [[0, transfer.size]] : [] };
    }
    return { state: "active", size: transfer.size, received: await heldRanges(pool, transfer.id) };
  }

  async function abort(deviceId: string, fileId: string): Promise<Record<string, unknown>> {
    const found = await findTransfer(pool, deviceId, fileId);
    if (!found.deviceKnown) throw new ProtocolError("device_unknown");
    if (!found.deviceEnabled) throw new ProtocolError("device_disabled");
    // Aborting what is already gone answers the same as the first abort (duplicate delivery).
    if (!found.transfer) return {};
    if (found.transfer.state === "completed") throw new ProtocolError("transfer_completed");
    await deleteActiveTransfer(pool, found.transfer.id);
    activeTransfers.forget(found.transfer.id);
    await eager?.drop(found.transfer.id);
    await staging?.remove(found.transfer.id);
    return {};
  }

  function readCommandPayload(payload: Buffer): void {
    // fin/status/abort carry nothing; a JSON object with a request_id is accepted too.
    if (payload.length === 0) return;
    validateMessage(ZTransferCommandSchema, decodeJsonObject(payload), TRANSFER_COMMAND_FIELD_CODES);
  }

  return {
    match(topic) {
      const parsed = topics.parseTransfer(topic);
      if (!parsed) return null;
      return {
        deviceId: parsed.deviceId,
        operation: TRANSFER_OPERATIONS[parsed.command === "invalid" ? parsed.attempted : parsed.command],
        params: parsed,
      };
    },
    responseTopic: (deviceId) => topics.device(deviceId).fileTransfer.response,
    describe(params) {
      const command = params.command === "invalid" ? params.attempted : params.command;
      return { file_id: params.fileId, command, ...(params.command === "segment" ? { offset: params.offset } : {}) };
    },
    requestIdOf(payload, params) {
      if (params.command === "segment" || payload.length === 0 || payload.length > 64 * 1024 || payload[0] !== 0x7b) return undefined;
      try {
        return usableRequestId(JSON.parse(payload.toString("utf8")) as Record<string, unknown>);
      } catch {
        return undefined;
      }
    },
    async handle({ deviceId, params, payload }, context: THandlerContext) {
      const key = `${deviceId}\u0000${params.fileId}`;
      switch (params.command) {
        case "invalid":
          throw new ProtocolError(params.code);
        case "segment":
          return ordering.segment(key, () => segment(deviceId, params.fileId, params.offset, payload));
        case "init":
          return ordering.command(key, () => init(deviceId, params.fileId, payload));
        case "fin":
          return ordering.command(key, async () => {
            readCommandPayload(payload);
            return fin(deviceId, params.fileId, params.size, params.sha256, context.log);
          });
        case "status":
          return ordering.command(key, async () => (readCommandPayload(payload), status(deviceId, params.fileId)));
        case "abort":
          return ordering.command(key, async () => (readCommandPayload(payload), abort(deviceId, params.fileId)));
      }
    },
    drain: async () => {
      await segments.idle();
      await staging?.close();
    },
    eager,
  };
}

/** At most `limit` tasks at once; the others wait in order. */
class Semaphore {
  private running = 0;
  private waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
