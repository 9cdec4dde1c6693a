/**
 * The named stores an app's environment describes (`./env`), built alike by the worker and the
 * web app. Apart from `./env` so that validating settings loads no store backend.
 */
import path from "node:path";
import type { TStorageEnv } from "./env";
import { createNamedStores, type TNamedStore } from "./named-stores";

/** The named stores (docs/protocol.md#stores); throws StoreConfigError (one line per mistake). */
export function namedStoresFromEnv(env: TStorageEnv): Map<string, TNamedStore> {
  return createNamedStores(env.STORE_CONFIGURATION, {
    backend: env.STORAGE_BACKEND,
    bucket: env.STORAGE_BACKEND === "s3" ? env.S3_BUCKET! : env.FS_BUCKET,
    region: env.S3_REGION,
    ...(env.STORAGE_BACKEND === "fs" || env.FS_SECRET_ACCESS_KEY
      ? {
          fs: {
            rootDir: path.resolve(env.FS_STORE_DIR),
            publicUrl: env.FS_PUBLIC_URL,
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
