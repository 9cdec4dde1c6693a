import "server-only";
import path from "node:path";
import { createStore } from "@fleetdrop/storage/config";
import type { Store } from "@fleetdrop/storage/store";
import { env, type TWebEnv } from "@/env";

/** The sessions store's configuration, exactly as the ingest worker builds it from the same variables. */
export function sessionStoreConfig(e: TWebEnv) {
  if (e.STORAGE_BACKEND === "s3") {
    return {
      backend: "s3" as const,
      bucket: e.S3_BUCKET!,
      region: e.S3_REGION,
      endpoint: e.S3_ENDPOINT,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
    };
  }
  return {
    backend: "fs" as const,
    bucket: e.FS_BUCKET,
    rootDir: path.resolve(e.FS_STORE_DIR),
    publicUrl: e.FS_PUBLIC_URL,
    accessKeyId: e.FS_ACCESS_KEY_ID,
    secretAccessKey: e.FS_SECRET_ACCESS_KEY!,
    region: e.S3_REGION,
  };
}

let store: Store | undefined;

/**
 * The "sessions" store shared with the worker: keys are exactly
 * `sessions/{device serial}/{session id}/{filename}`. Downloads stream from it (fs) or
 * redirect to its presigned GETs (s3).
 */
export function sessionsStore(): Store {
  store ??= createStore(sessionStoreConfig(env), { label: "sessions" });
  return store;
}
