/**
 * docs/protocol.md#stores: the worker's named stores, from STORE_CONFIGURATION and the same storage variables
 * as the sessions store (credentials, fs folder and public URL, S3 endpoint and path style).
 */
import type { TNamedStore } from "@fleetdrop/storage/named-stores";

export type TNamedStores = ReadonlyMap<string, TNamedStore>;

/** Built as the web app builds them (@fleetdrop/storage/env-stores); throws StoreConfigError when STORE_CONFIGURATION is wrong. */
export { namedStoresFromEnv } from "@fleetdrop/storage/env-stores";

/**
 * The named store and device-relative path an object key of a store upload names: the key as
 * the device got it in `object_key` (the store's prefix included). Null when no store of this
 * device holds it.
 */
export function storeOfObjectKey(
  stores: TNamedStores,
  deviceId: string,
  objectKey: string,
): { entry: TNamedStore; key: string; path: string } | null {
  let best: { entry: TNamedStore; key: string; path: string } | null = null;
  for (const entry of stores.values()) {
    const prefix = entry.store.prefix;
    if (!objectKey.startsWith(prefix)) continue;
    const key = objectKey.slice(prefix.length);
    const devicePart = `${deviceId}/`;
    if (entry.perDevice && !key.startsWith(devicePart)) continue;
    const found = { entry, key, path: entry.perDevice ? key.slice(devicePart.length) : key };
    if (!best || prefix.length > best.entry.store.prefix.length) best = found;
  }
  return best;
}
