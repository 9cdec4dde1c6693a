import "server-only";
import { namedStoresFromEnv } from "@fleetdrop/storage/env-stores";
import type { TNamedStore } from "@fleetdrop/storage/named-stores";
import { env } from "@/env";
import { NotFoundError } from "@/server/errors";

/** The named stores (docs/protocol.md#stores), built by the same function as the worker's. */
export { namedStoresFromEnv } from "@fleetdrop/storage/env-stores";

let stores: Map<string, TNamedStore> | undefined;

export function namedStores(): Map<string, TNamedStore> {
  stores ??= namedStoresFromEnv(env);
  return stores;
}

/** A configured store, or a 404 (its name comes from a URL or a form). */
export function namedStore(name: string): TNamedStore {
  const store = namedStores().get(name);
  if (!store) throw new NotFoundError(`No store named ${name}`);
  return store;
}
