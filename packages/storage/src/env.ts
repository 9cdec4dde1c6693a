/**
 * The storage settings (README "Settings", docs/dashboard.md): the sessions store and the named
 * stores of STORE_CONFIGURATION. The worker and the web app compose this one schema and build
 * their stores with the same functions, so both see the same backend, bucket, endpoint, public
 * URL, path style and named stores. This module loads no store backend (the web app's
 * next.config imports it); `./env-stores` builds the named stores.
 */
import path from "node:path";
import { envBoolean } from "@fleetdrop/shared/env";
import { z } from "zod";
import type { TFsStoreConfigInput, TS3StoreConfigInput } from "./config";
import { storeConfigurationProblems } from "./named-stores-config";

/** Where devices reach the worker's fs upload endpoint unless FS_PUBLIC_URL says otherwise (the worker's default HTTP_PORT). */
export const DEFAULT_FS_PUBLIC_URL = "http://localhost:9000";

export const ZStorageEnvSchema = z.object({
  STORAGE_BACKEND: z.enum(["fs", "s3"]).default("fs"),
  FS_STORE_DIR: z.string().default(".fleetdrop/storage"),
  FS_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: "FS_PUBLIC_URL must be an http:// or https:// URL that devices can reach" })
    .default(DEFAULT_FS_PUBLIC_URL),
  FS_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "FS_BUCKET must be 3 to 63 lower-case letters, digits, . or - (a valid bucket name)")
    .default("fleetdrop"),
  FS_ACCESS_KEY_ID: z.string().min(1).default("fleetdrop"),
  FS_SECRET_ACCESS_KEY: z.string().min(16, { error: "FS_SECRET_ACCESS_KEY must be at least 16 characters" }).optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default("us-east-1"),
  S3_ENDPOINT: z.url({ error: "S3_ENDPOINT must be a URL, e.g. http://minio:9000" }).optional(),
  S3_FORCE_PATH_STYLE: envBoolean.default(false),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Named stores (docs/protocol.md#stores) as JSON; unset: config, apps, incoming, contents, status. */
  STORE_CONFIGURATION: z.string().optional(),
});

export type TStorageEnv = z.infer<typeof ZStorageEnvSchema>;
export type TStorageEnvInput = z.input<typeof ZStorageEnvSchema>;

type TCheckedStorageEnv = Pick<
  TStorageEnv,
  "STORAGE_BACKEND" | "S3_BUCKET" | "S3_ACCESS_KEY_ID" | "S3_SECRET_ACCESS_KEY" | "STORE_CONFIGURATION"
> & { FS_SECRET_ACCESS_KEY?: string };

/**
 * The rules across storage variables; call it from the composing app's superRefine.
 * `fsSecretProvided`: the app supplies the fs store's secret itself (the one-command platform).
 */
export function checkStorageEnv(env: TCheckedStorageEnv, ctx: z.RefinementCtx, options: { fsSecretProvided?: boolean } = {}): void {
  if (env.STORAGE_BACKEND === "fs" && !env.FS_SECRET_ACCESS_KEY && !options.fsSecretProvided) {
    ctx.addIssue({
      code: "custom",
      path: ["FS_SECRET_ACCESS_KEY"],
      message:
        "FS_SECRET_ACCESS_KEY is required when STORAGE_BACKEND=fs " +
        "(the worker and the web app share it: it signs upload forms and download URLs)",
    });
  }
  if (env.STORAGE_BACKEND === "s3" && !env.S3_BUCKET) {
    ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "S3_BUCKET is required when STORAGE_BACKEND=s3" });
  }
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    ctx.addIssue({ code: "custom", path: ["S3_SECRET_ACCESS_KEY"], message: "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together" });
  }
}

/**
 * The JSON of STORE_CONFIGURATION, for an app that builds its named stores later than start-up
 * (the web app, on first use). An app that builds them right after validating (the worker) leaves
 * it to namedStoresFromEnv, which lists the JSON's mistakes together with the stores'.
 */
export function checkStoreConfiguration(env: Pick<TStorageEnv, "STORE_CONFIGURATION">, ctx: z.RefinementCtx): void {
  for (const problem of storeConfigurationProblems(env.STORE_CONFIGURATION)) {
    ctx.addIssue({ code: "custom", path: ["STORE_CONFIGURATION"], message: problem });
  }
}

/** The "sessions" store, as createStore takes it. */
export function sessionStoreConfigFromEnv(env: TStorageEnv): TS3StoreConfigInput | TFsStoreConfigInput {
  if (env.STORAGE_BACKEND === "s3") {
    return {
      backend: "s3",
      bucket: env.S3_BUCKET!,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    };
  }
  return {
    backend: "fs",
    bucket: env.FS_BUCKET,
    rootDir: path.resolve(env.FS_STORE_DIR),
    publicUrl: env.FS_PUBLIC_URL,
    accessKeyId: env.FS_ACCESS_KEY_ID,
    secretAccessKey: env.FS_SECRET_ACCESS_KEY!,
    region: env.S3_REGION,
  };
}
