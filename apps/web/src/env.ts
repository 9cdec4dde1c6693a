/**
 * The web app's configuration, validated once. `next.config.ts` imports this module, so a bad
 * environment fails `next build` (and `next start`) with a list of what is wrong. Nothing else
 * in the app reads `process.env`.
 */
import { storeConfigurationProblems } from "@fleetdrop/storage/named-stores-config";
import { z } from "zod";
import { parseTrustedProxies } from "./server/http/trusted-proxies";

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const booleanString = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => value === "true" || value === "1");

export const ZWebEnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, { error: "DATABASE_URL must be a postgresql:// URL" }),
    NEXTAUTH_URL: z.string().url().optional(),
    NEXTAUTH_SECRET: z.string().min(16, { error: "NEXTAUTH_SECRET must be at least 16 characters (e.g. `openssl rand -base64 32`)" }),

    OIDC_ISSUER: optionalString.pipe(z.string().url().optional()),
    OIDC_CLIENT_ID: optionalString,
    OIDC_CLIENT_SECRET: optionalString,
    OIDC_NAME: optionalString,

    STORAGE_BACKEND: z.enum(["fs", "s3"]).default("fs"),
    FS_STORE_DIR: z.string().default(".fleetdrop/storage"),
    FS_PUBLIC_URL: z.string().url().default("http://localhost:9000"),
    FS_BUCKET: z.string().default("fleetdrop"),
    FS_ACCESS_KEY_ID: z.string().default("fleetdrop"),
    FS_SECRET_ACCESS_KEY: optionalString.pipe(z.string().min(16, { error: "FS_SECRET_ACCESS_KEY must be at least 16 characters" }).optional()),
    S3_BUCKET: optionalString,
    S3_REGION: z.string().default("us-east-1"),
    S3_ENDPOINT: optionalString.pipe(z.string().url().optional()),
    S3_FORCE_PATH_STYLE: booleanString,
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,

    /** Named stores (JSON, the worker's format); unset: config, apps, incoming, contents, status. */
    STORE_CONFIGURATION: optionalString,

    TOPIC_PREFIX: z.string().default("fleetdrop"),
    MQTT_URL: optionalString,
    MQTT_USERNAME: optionalString,
    MQTT_PASSWORD: optionalString,

    /** Device provisioning (packages/provisioning): seals the device CAs' keys; certificate devices need it. */
    DEVICE_CA_ENCRYPTION_KEY: optionalString,
    DEVICE_CA_ENCRYPTION_KEY_PREVIOUS: optionalString,
    /** What credential bundles point devices at: mutual-TLS and password listeners, the broker's CA file. */
    BROKER_CERTIFICATE_URL: optionalString,
    BROKER_PASSWORD_URL: optionalString,
    BROKER_CA_FILE: optionalString,
    /** 4 when the broker speaks only MQTT 3.1.1 (the embedded one); written into device configs. */
    BROKER_PROTOCOL_VERSION: z.enum(["4", "5", ""]).optional().transform((value) => (value === "4" ? 4 : value === "5" ? 5 : undefined)),

    /** Password checks allowed per account and client address in SIGN_IN_WINDOW_MINUTES. */
    SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    /** Password checks allowed per client address in the window (across accounts). */
    SIGN_IN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
    /**
     * Password checks allowed per account in the window from addresses that have never signed
     * in to it (a distributed guesser); addresses the account signed in from are exempt.
     */
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(100),
    SIGN_IN_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
    /**
     * Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For is
     * believed. Unset: none, and the client address is the connection's own.
     */
    TRUSTED_PROXIES: z
      .string()
      .optional()
      .transform((value, ctx) => {
        const parsed = parseTrustedProxies(value ?? "");
        for (const problem of parsed.problems) ctx.addIssue({ code: "custom", message: problem });
        return parsed.entries;
      }),
    /** Seconds a presigned download URL (s3) stays valid. */
    DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(60),
  })
  .superRefine((env, ctx) => {
    for (const problem of storeConfigurationProblems(env.STORE_CONFIGURATION)) {
      ctx.addIssue({ code: "custom", path: ["STORE_CONFIGURATION"], message: problem });
    }
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      ctx.addIssue({
        code: "custom",
        path: ["OIDC_ISSUER"],
        message: "set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together (or none of them)",
      });
    }
    if (env.STORAGE_BACKEND === "fs" && !env.FS_SECRET_ACCESS_KEY) {
      ctx.addIssue({ code: "custom", path: ["FS_SECRET_ACCESS_KEY"], message: "FS_SECRET_ACCESS_KEY is required when STORAGE_BACKEND=fs (the same secret as the worker's)" });
    }
    if (env.STORAGE_BACKEND === "s3" && !env.S3_BUCKET) {
      ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "S3_BUCKET is required when STORAGE_BACKEND=s3" });
    }
  });

export type TWebEnv = z.infer<typeof ZWebEnvSchema>;

/** Needed by a running server, not by `next build` (whose output does not depend on them). */
const RUNTIME_ONLY = new Set(["DATABASE_URL", "NEXTAUTH_SECRET", "FS_SECRET_ACCESS_KEY", "S3_BUCKET"]);

/**
 * Validates the environment. At build time (`forBuild`) a variable that is set must be valid,
 * but the secrets and the database URL a server needs may still be missing: the build can run
 * on a machine without them, and `next start` refuses to start until they are there.
 */
export function parseWebEnv(source: Record<string, string | undefined>, options: { forBuild?: boolean } = {}): TWebEnv {
  const result = ZWebEnvSchema.safeParse(source);
  if (result.success) return result.data;
  const issues = result.error.issues.filter((issue) => {
    if (!options.forBuild) return true;
    const name = String(issue.path[0] ?? "");
    return !(RUNTIME_ONLY.has(name) && (source[name] === undefined || source[name] === ""));
  });
  if (issues.length === 0) return source as unknown as TWebEnv;
  const lines = issues.map((issue) => `  - ${issue.path.join(".") || "env"}: ${issue.message}`);
  throw new Error(`Invalid environment for the Fleetdrop web app:\n${lines.join("\n")}`);
}

let cached: TWebEnv | undefined;

/** The validated environment (read on first use, so tests can set it up first). */
export function getEnv(): TWebEnv {
  // While `next build` evaluates modules (collecting page data), runtime-only values may be absent.
  cached ??= parseWebEnv(process.env, { forBuild: process.env.NEXT_PHASE === "phase-production-build" });
  return cached;
}

/** Proxy so call sites read `env.DATABASE_URL` while validation stays lazy. */
export const env: TWebEnv = new Proxy({} as TWebEnv, {
  get: (_target, key: string) => getEnv()[key as keyof TWebEnv],
});
