/**
 * Uploads into sessions (docs/protocol.md#file_uploadrequest) in the worker: `file_upload/request`
 * (batched into one statement per batch), `file_upload/complete`, opening and closing sessions,
 * the agent's status, and the recovery jobs — the sweeper that checks pending files again (what a
 * crash, an outage or a lost report left), the removal of upload temp files whose writer is gone,
 * and the pending-files gauge.
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";
import { Batcher } from "../batcher";
import { countPendingFiles } from "../db/files";
import { recordUploadRequests, type TUploadOutcome, type TUploadRow } from "../db/upload-requests";
import type { TObjectHasher } from "../digests/hasher";
import type { TWorkerFeature } from "../feature";
import { sweepPendingFiles } from "../jobs/pending-sweeper";
import { removeStaleTempFiles } from "../jobs/stale-temp-files";
import type { Logger } from "../logger";
import type { TWorkerMetrics } from "../metrics";
import type { TStoreCompletion } from "../stores/feature";
import { createAgentStatusHandler } from "./agent-status";
import { createSessionCloseHandler, createSessionOpenHandler } from "./sessions";
import { createUploadCompleteDispatch } from "./upload-dispatch";
import { createUploadCompleteHandler } from "./upload-complete";
import { createUploadRequestHandler } from "./upload-request";

export type TRecoverySettings = {
  /** A pending file is checked again at most this long after its last check. */
  pendingRecheckMaxMs: number;
  /** Upload temp files of the fs stores untouched this long are removed (their writer is gone). */
  staleTempFileMs: number;
};

/** How soon a sweep that failed (database down) is tried again. */
const SWEEP_RETRY_MS = 1000;

export type TUploadFeature = TWorkerFeature & {
  /** Runs the pending-file sweeper once now. */
  sweep(): Promise<unknown>;
};

export function createUploadFeature(deps: {
  pool: Pool;
  store: Store;
  /** The stores whose upload temp files are cleaned up besides `store`'s. */
  otherStores: Store[];
  metrics: TWorkerMetrics;
  log: Logger;
  hasher: TObjectHasher;
  /** Completions of named-store objects, which `file_upload/complete` also carries. */
  storeCompletion: TStoreCompletion;
  maxUploadMb: number;
  uploadExpiresInSeconds: number;
  /** Upload-request batches in flight at once (at most the pool's size less one). */
  dbBatchConcurrency: number;
  dbPoolSize: number;
  sweepIntervalMs: number;
  recovery: TRecoverySettings;
  /** Runs before a batch's answers are settled (the MQTT write coalescer). */
  beforeSettle?: () => void;
}): TUploadFeature {
  const { pool, store, metrics, log, hasher, recovery } = deps;
  const sweep = () => sweepPendingFiles({ pool, store, metrics, log, hasher, recheckMaxMs: recovery.pendingRecheckMaxMs });
  const batcher = new Batcher<TUploadRow, TUploadOutcome>(
    async (rows) => {
      const stopTimer = metrics.batchDuration.startTimer();
      try {
        return await recordUploadRequests(pool, rows, {
          expiresInSeconds: deps.uploadExpiresInSeconds,
          // The fs store reports each upload itself, S3 (without event notifications) is asked; either
          // way a check is due within the recovery window, for an upload whose report was lost.
          firstCheckAfterSeconds: Math.min(store.backend === "fs" ? Number.POSITIVE_INFINITY : 30, recovery.pendingRecheckMaxMs / 1000),
        });
      } finally {
        stopTimer();
      }
    },
    {
      maxBatch: 256,
      maxConcurrent: Math.max(1, Math.min(deps.dbBatchConcurrency, deps.dbPoolSize - 1)),
      onBatch: (size) => metrics.batchSize.observe(size),
      beforeSettle: deps.beforeSettle,
    },
  );
  return {
    name: "uploads",
    sweep,
    handlers: {
      uploadRequest: createUploadRequestHandler({
        store,
        batcher,
        maxUploadMb: deps.maxUploadMb,
        expiresInSeconds: deps.uploadExpiresInSeconds,
      }),
      uploadComplete: createUploadCompleteDispatch({
        session: createUploadCompleteHandler({ pool, store, metrics, log, hasher }),
        store: deps.storeCompletion.handler,
        isStoreKey: deps.storeCompletion.isStoreKey,
      }),
      sessionOpen: createSessionOpenHandler({ pool }),
      sessionClose: createSessionCloseHandler({ pool }),
      agentStatus: createAgentStatusHandler({ pool }),
    },
    jobs: [
      // At start and right after the database is back: what a crash or an outage left pending.
      {
        name: "sweeper",
        intervalMs: deps.sweepIntervalMs,
        run: sweep,
        immediate: true,
        retryMs: Math.min(SWEEP_RETRY_MS, deps.sweepIntervalMs),
      },
      {
        name: "stale-temp-files",
        intervalMs: Math.min(60_000, Math.max(100, recovery.staleTempFileMs / 2)),
        run: () => removeStaleTempFiles([store, ...deps.otherStores], recovery.staleTempFileMs, log),
        immediate: true,
      },
      { name: "pending-gauge", intervalMs: 15_000, run: async () => metrics.pendingFiles.set(await countPendingFiles(pool)) },
    ],
  };
}
