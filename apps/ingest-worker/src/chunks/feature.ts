/**
 * Chunk forwarding (docs/protocol.md#chunks) in the worker: the chunks route, its subscription and the outbox delivery loop.
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { TTopics } from "@fleetdrop/shared/topics";
import { Counter, type Registry } from "prom-client";
import { deliveryOwner, registerDeliveryCounters } from "../delivery/engine";
import type { TWorkerFeature } from "../feature";
import type { Logger } from "../logger";
import { createChunkDelivery, type TDeliverySettings } from "./delivery";
import { createChunkRoute } from "./route";

export type TChunkSettings = TDeliverySettings & {
  /** Largest chunk accepted, bytes (413 chunk_too_large). */
  maxChunkBytes: number;
  /** false: accept and store chunks, but leave delivery to other workers. */
  deliver: boolean;
};

const DEFAULT_CHUNK_SETTINGS: TChunkSettings = {
  maxChunkBytes: 1024 * 1024,
  deliver: true,
  concurrency: 16,
  pollIntervalMs: 1000,
  backoffBaseMs: 1000,
  backoffMaxMs: 5 * 60_000,
  leaseMs: 60_000,
};

export function createChunkFeature(deps: {
  settings: Partial<TChunkSettings> | undefined;
  topics: TTopics;
  pool: Pool;
  registry: Registry;
  log: Logger;
}): TWorkerFeature & { readonly settings: TChunkSettings } {
  const settings = { ...DEFAULT_CHUNK_SETTINGS, ...deps.settings };
  const received = new Counter({
    name: "fleetdrop_chunks_stored_total",
    help: "Chunks written to the outbox (acknowledged to the broker)",
    registers: [deps.registry],
  });
  const delivery = createChunkDelivery({
    pool: deps.pool,
    owner: deliveryOwner(),
    settings,
    log: deps.log.child({ component: "chunk-delivery" }),
    counters: registerDeliveryCounters(deps.registry, {
      delivered: { name: "fleetdrop_chunks_delivered_total", help: "Chunks their endpoint accepted" },
      failed: { name: "fleetdrop_chunk_attempts_failed_total", help: "Failed delivery attempts by reason" },
      parked: { name: "fleetdrop_chunks_parked_total", help: "Chunks parked after too many failures or a refusal" },
    }),
  });
  const route = createChunkRoute({
    topics: deps.topics,
    pool: deps.pool,
    maxChunkBytes: settings.maxChunkBytes,
    onStored: (count) => {
      received.inc(count);
      if (settings.deliver) delivery.nudge();
    },
  });
  return {
    name: "chunks",
    settings,
    routes: [{ route, filter: (sharedGroup) => deps.topics.chunksFilter(sharedGroup) }],
    start() {
      if (settings.deliver) delivery.start();
    },
    stop: () => delivery.stop(),
  };
}
