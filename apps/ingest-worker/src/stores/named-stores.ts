/**
 * docs/protocol.md#stores: the worker's named stores, from STORE_CONFIGURATION and the same storage variables
 * as the sessions store (credentials, fs folder and public URL, S3 endpoint and path style).
 */
import path from "node:path";
import { createNamedStores, type TNamedStore } from "@fleetdrop/storage/named-stores";
import type { TWorkerEnv } from "../env";

export type TNamedStores = ReadonlyMap<string, TNamedStore>;

/** Throws StoreConfigError (one line per mistake) when STORE_CONFIGURATION is wrong. */
export function namedStoresFromEnv(env: TWorkerEnv): TNamedStores {
  return createNamedStores(env.STORE_CONFIGURATION, {
    backend: env.STORAGE_BACKEND,
    bucket: env.STORAGE_BACKEND === "s3" ? env.S3_BUCKET! : env.FS_BUCKET,
    region: env.S3_REGION,
    ...(env.STORAGE_BACKEND === "fs" || env.FS_SECRET_ACCESS_KEY
      ? {
          fs: {
            rootDir: path.resolve(env.FS_STORE_DIR),
            publicUrl: env.FS_PUBLIC_URL ?? `http://localhost:${env.HTTP_PORT}`,
            accessKeyId: env.FS_ACCESS_KEY_ID,
            secretAccessKey: env.FS_SECRET_ACCESS_KEY ?? "",
          },
        }
      : {}),
    s3: {
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    },
  });
}

/**
 * The named store and device-relative path an object key of a store upload names: the key as
 * the device got it in `object_key` (the store's prefix included). Null when no store of this
 * device holds it.
 */
export function storeOfObjectKey(stores: TNamedStores, deviceId: string, objectKey: string): { entry: TNamedStore; key: string; path: string } | null {
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
