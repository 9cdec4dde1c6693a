import "server-only";
import { createStore } from "@fleetdrop/storage/config";
import type { Store } from "@fleetdrop/storage/store";
import { sessionStoreConfigFromEnv } from "@fleetdrop/storage/env";
import { env } from "@/env";

/** The sessions store's configuration, built by the same function as the ingest worker's. */
export { sessionStoreConfigFromEnv as sessionStoreConfig } from "@fleetdrop/storage/env";

let store: Store | undefined;

/**
 * The "sessions" store shared with the worker: keys are exactly
 * `sessions/{device serial}/{session id}/{filename}`. Downloads stream from it (fs) or
 * redirect to its presigned GETs (s3).
 */
export function sessionsStore(): Store {
  store ??= createStore(sessionStoreConfigFromEnv(env), { label: "sessions" });
  return store;
}
