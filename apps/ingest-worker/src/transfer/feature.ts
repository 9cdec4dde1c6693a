/**
 * File transfer over MQTT (docs/protocol.md#file_transfer) in the worker: the file_transfer
 * route, its subscription, its clean-up job (TRANSFER_TTL) and the inbound byte budget that keeps
 * the worker's memory flat whatever devices send.
 */
import type { TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import type { TTopics } from "@fleetdrop/shared/topics";
import type { Store } from "@fleetdrop/storage/store";
import { Counter, type Registry } from "prom-client";
import type { TWorkerFeature } from "../feature";
import type { Logger } from "../logger";
import { FileStaging } from "./file-staging";
import { createInboundBudget } from "./inbound-budget";
import { createTransferMetrics } from "./metrics";
import { createTransferRoute, type TTransferLimits } from "./route";
import { cleanUpTransfers, type TCleanupResult } from "./transfers-db";

export type TTransferSettings = TTransferLimits & {
  /** Incomplete transfers idle this long are removed (TRANSFER_TTL, default 24 h). */
  ttlSeconds: number;
  /** How often the clean-up job runs. */
  cleanupIntervalMs: number;
  /** Payload bytes (segments, chunks) handlers may hold at once before the worker stops reading. */
  inboundBudgetBytes: number;
  /**
   * null: segment bytes are staged in PostgreSQL. A folder (shared by every worker): staged in
   * files there, with only their ranges in PostgreSQL — several times faster (docs/benchmarks.md#latest-results).
   */
  stagingDir: string | null;
  /** With file staging and the fs store: transfers assembled while their segments arrive, at most this many at once (0: off). */
  eagerAssemblies: number;
};

const DEFAULT_TRANSFER_SETTINGS: TTransferSettings = {
  maxFileBytes: 5 * 1024 * 1024 * 1024,
  maxSegmentBytes: 1024 * 1024,
  maxActivePerDevice: 16,
  ttlSeconds: 24 * 3600,
  cleanupIntervalMs: 60_000,
  inboundBudgetBytes: 8 * 1024 * 1024,
  stagingDir: null,
  eagerAssemblies: 4,
};

export type TTransferFeature = TWorkerFeature & {
  readonly settings: TTransferSettings;
  /** Holds back reading from the broker while handlers hold too many payload bytes. */
  readonly budget: ReturnType<typeof createInboundBudget>;
  /** Runs the clean-up (TRANSFER_TTL, staging files) once now. */
  cleanUp(): Promise<TCleanupResult>;
};

export function createTransferFeature(deps: {
  settings: Partial<TTransferSettings> | undefined;
  topics: TTopics;
  pool: Pool;
  store: Store;
  registry: Registry;
  log: Logger;
  onStored?: () => void;
}): TTransferFeature {
  const settings = { ...DEFAULT_TRANSFER_SETTINGS, ...deps.settings };
  const metrics = createTransferMetrics(deps.registry);
  const staging = settings.stagingDir ? new FileStaging(settings.stagingDir) : null;
  if (staging) {
    new Counter({
      name: "fleetdrop_transfer_staging_written_bytes_total",
      help: "Segment bytes written to staging files, by how: direct (O_DIRECT, around the page cache) or buffered",
      labelNames: ["io"] as const,
      registers: [deps.registry],
      collect() {
        // The counts live in FileStaging; the counter mirrors them when scraped.
        this.reset();
        this.inc({ io: "direct" }, staging.written.direct);
        this.inc({ io: "buffered" }, staging.written.buffered);
      },
    });
  }
  const route = createTransferRoute({
    topics: deps.topics,
    pool: deps.pool,
    store: deps.store,
    limits: settings,
    metrics,
    log: deps.log,
    onStored: deps.onStored,
    ttlSeconds: settings.ttlSeconds,
    staging,
    eagerAssemblies: settings.eagerAssemblies,
  });
  const budget = createInboundBudget(settings.inboundBudgetBytes);
  const cleanUp = async (): Promise<TCleanupResult> => {
    const result = await cleanUpTransfers(deps.pool, settings.ttlSeconds);
    const activeOf = async (ids: string[]) => {
      const active = await deps.pool.query<TRowOf<"file_transfers", "id">>(
        "SELECT id FROM file_transfers WHERE id = ANY($1::uuid[]) AND state = 'active'",
        [ids],
      );
      return new Set(active.rows.map((row) => row.id));
    };
    await route.eager?.dropUnless(activeOf);
    if (staging) {
      // Files of transfers that expired, were aborted or completed (a crash may leave some).
      result.stagingFilesRemoved = await staging.sweep(activeOf);
    }
    if (result.expired > 0) {
      metrics.cleanedUp.inc(result.expired);
      deps.log.info({ expired: result.expired }, "removed incomplete transfers idle for longer than TRANSFER_TTL");
    }
    return result;
  };
  return {
    name: "transfers",
    settings,
    budget,
    routes: [{ route, filter: (sharedGroup) => deps.topics.transferFilter(sharedGroup) }],
    // At start too: staging files a crash left behind go without waiting a whole interval.
    jobs: [{ name: "transfer-cleanup", intervalMs: settings.cleanupIntervalMs, run: cleanUp, immediate: true }],
    // Once the segments in flight are written: abandon unfinished eager assemblies and close the
    // staging files kept open.
    async stop() {
      await route.eager?.dropAll();
      await route.drain();
    },
    cleanUp,
  };
}
