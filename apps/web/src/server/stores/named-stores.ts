import "server-only";
import path from "node:path";
import { createNamedStores, type TNamedStore } from "@fleetdrop/storage/named-stores";
import { env, type TWebEnv } from "@/env";
import { NotFoundError } from "@/server/errors";

/** The named stores (docs/protocol.md#stores), built exactly as the worker builds them from the same variables. */
export function namedStoresFromEnv(e: TWebEnv): Map<string, TNamedStore> {
  return createNamedStores(e.STORE_CONFIGURATION, {
    backend: e.STORAGE_BACKEND,
    bucket: e.STORAGE_BACKEND === "s3" ? e.S3_BUCKET! : e.FS_BUCKET,
    region: e.S3_REGION,
    ...(e.FS_SECRET_ACCESS_KEY
      ? { fs: { rootDir: path.resolve(e.FS_STORE_DIR), publicUrl: e.FS_PUBLIC_URL, accessKeyId: e.FS_ACCESS_KEY_ID, secretAccessKey: e.FS_SECRET_ACCESS_KEY } }
      : {}),
    s3: { endpoint: e.S3_ENDPOINT, forcePathStyle: e.S3_FORCE_PATH_STYLE, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY },
  });
}

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
