/**
 * The web app's configuration, validated once. `next.config.ts` imports this module, so a bad
 * environment fails `next build` (and `next start`) with a list of what is wrong. Nothing else
 * in the app reads `process.env`.
 */
import { ZDbEnvSchema } from "@fleetdrop/db/env";
import { ZDeviceCredentialsEnvSchema } from "@fleetdrop/provisioning/env";
import { envIssueLines, withoutEmpty } from "@fleetdrop/shared/env";
import { ZMqttEnvSchema } from "@fleetdrop/shared/mqtt-env";
import { ZWebhooksEnvSchema } from "@fleetdrop/shared/webhooks/env";
import { ZStorageEnvSchema, checkStorageEnv, checkStoreConfiguration } from "@fleetdrop/storage/env";
import { z } from "zod";
import { parseTrustedProxies } from "./server/http/trusted-proxies";

export const ZWebEnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    ...ZDbEnvSchema.shape,
    NEXTAUTH_URL: z.url().optional(),
    NEXTAUTH_SECRET: z.string().min(16, { error: "NEXTAUTH_SECRET must be at least 16 characters (e.g. `openssl rand -base64 32`)" }),

    OIDC_ISSUER: z.url().optional(),
    OIDC_CLIENT_ID: z.string().optional(),
    OIDC_CLIENT_SECRET: z.string().optional(),
    OIDC_NAME: z.string().trim().optional(),

    /** The sessions store and the named stores (STORE_CONFIGURATION), as the worker reads them. */
    ...ZStorageEnvSchema.shape,

    /** MQTT_URL (unset: no broker, so no commands or retained status), MQTT_USERNAME, MQTT_PASSWORD, TOPIC_PREFIX. */
    ...ZMqttEnvSchema.shape,

    /**
     * Whether webhook endpoints may be on private/loopback addresses, and WEBHOOK_SECRET_KEY, which
     * seals their signing secrets (the worker applies both too).
     */
    ...ZWebhooksEnvSchema.shape,

    /** Device provisioning (packages/provisioning): the CA key and what credential bundles point devices at. */
    ...ZDeviceCredentialsEnvSchema.shape,
    /** 4 when the broker speaks only MQTT 3.1.1 (the embedded one); written into device configs. */
    BROKER_PROTOCOL_VERSION: z
      .enum(["4", "5"])
      .optional()
      .transform((value) => (value === "4" ? 4 : value === "5" ? 5 : undefined)),

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
    /** Requests one API token may make per minute (/api/v1); more are answered 429 with Retry-After. */
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
    /** Seconds a presigned download URL stays valid (dashboard downloads with s3, and the API's download URLs). */
    DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(60),
  })
  .superRefine((env, ctx) => {
    checkStorageEnv(env, ctx);
    checkStoreConfiguration(env, ctx);
    if (!env.WEBHOOK_SECRET_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET_KEY"],
        message: "set WEBHOOK_SECRET_KEY (32 random bytes, e.g. `openssl rand -base64 32`): it seals the webhook secrets",
      });
    }
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      ctx.addIssue({
        code: "custom",
        path: ["OIDC_ISSUER"],
        message: "set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together (or none of them)",
      });
    }
  });

export type TWebEnv = z.infer<typeof ZWebEnvSchema>;

/** Needed by a running server, not by `next build` (whose output does not depend on them). */
const RUNTIME_ONLY = new Set(["DATABASE_URL", "NEXTAUTH_SECRET", "FS_SECRET_ACCESS_KEY", "S3_BUCKET", "WEBHOOK_SECRET_KEY"]);

/**
 * Validates the environment. At build time (`forBuild`) a variable that is set must be valid,
 * but the secrets and the database URL a server needs may still be missing: the build can run
 * on a machine without them, and `next start` refuses to start until they are there.
 */
export function parseWebEnv(source: Record<string, string | undefined>, options: { forBuild?: boolean } = {}): TWebEnv {
  // Empty strings mean "not set" (docker-compose passes unset variables as empty).
  const result = ZWebEnvSchema.safeParse(withoutEmpty(source));
  if (result.success) return result.data;
  const issues = result.error.issues.filter((issue) => {
    if (!options.forBuild) return true;
    const name = String(issue.path[0] ?? "");
    return !(RUNTIME_ONLY.has(name) && (source[name] === undefined || source[name] === ""));
  });
  if (issues.length === 0) return source as unknown as TWebEnv;
  const lines = envIssueLines(new z.ZodError(issues), "  - ");
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
