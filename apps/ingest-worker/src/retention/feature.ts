/**
 * Retention (docs/retention.md) in the worker: one job that applies every project's rules, then
 * drops the webhook log's old entries (run.ts). At start too, so a worker that restarts often
 * still runs it.
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";
import type { TWorkerFeature } from "../feature";
import type { Logger } from "../logger";
import type { TNamedStores } from "../stores/named-stores";
import { runRetention, type TRetentionSettings } from "./run";

export function createRetentionFeature(deps: {
  pool: Pool;
  store: Store;
  namedStores?: TNamedStores;
  settings: TRetentionSettings;
  log: Logger;
}): TWorkerFeature {
  const log = deps.log.child({ component: "retention" });
  return {
    name: "retention",
    jobs: [
      {
        name: "retention",
        intervalMs: deps.settings.intervalMs,
        run: () =>
          runRetention({ pool: deps.pool, store: deps.store, namedStores: deps.namedStores, batchSize: deps.settings.batchSize, log }),
        immediate: true,
      },
    ],
  };
}
