/**
 * The worker's configuration, read and validated once at start-up, before anything connects.
 * No other file reads process.env.
 */
import { hostname } from "node:os";
import { ZDbEnvSchema } from "@fleetdrop/db/env";
import { SERVICE_CLIENT_ID_RULE, isServiceClientId } from "@fleetdrop/shared/acl";
import { envBoolean, envIssueLines, envPort, withoutEmpty } from "@fleetdrop/shared/env";
import { ZWebhooksEnvSchema } from "@fleetdrop/shared/webhooks/env";
import { ZMqttEnvSchema } from "@fleetdrop/shared/mqtt-env";
import { DEFAULT_MAX_UPLOAD_MB, DEFAULT_UPLOAD_EXPIRES_IN, HARD_MAX_UPLOAD_MB } from "@fleetdrop/shared/protocol/upload";
import { ZStorageEnvSchema, checkStorageEnv } from "@fleetdrop/storage/env";
import { z } from "zod";
import { ZRateLimitsSchema } from "./rate-limit";

export const ZWorkerEnvSchema = z
  .object({
    ...ZDbEnvSchema.shape,
    DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    /**
     * Upload-request batches in flight at once (each one statement and one commit, and a second
     * statement only when some of its requests are refused). One batch at a
     * time makes the batches larger and PostgreSQL's work per request smaller: at 200 devices on
     * 2 cores one batch in flight reaches a larger share of the no-op ceiling, with a lower p99,
     * than two (`npm run bench -- upload-requests`). Raise it for a database far away (each batch
     * then waits a network round trip).
     */
    DB_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(1),

    /** MQTT_URL (unset: DEFAULT_MQTT_URL), MQTT_USERNAME, MQTT_PASSWORD, TOPIC_PREFIX. */
    ...ZMqttEnvSchema.shape,
    /**
     * Never a valid device id (so no device can connect with it and take over the worker's
     * session): `fleetdrop-ingest:<name>`. Each worker instance has its own. Unset: MQTT_USERNAME
     * when that is a service client id (a broker that binds each service account to its client
     * id, as deploy/mosquitto does), else `fleetdrop-ingest:<hostname>`.
     */
    MQTT_CLIENT_ID: z
      .string()
      .refine((value) => isServiceClientId(value), SERVICE_CLIENT_ID_RULE)
      .optional(),
    MQTT_PROTOCOL_VERSION: z
      .enum(["4", "5"])
      .default("5")
      .transform((value): 4 | 5 => (value === "4" ? 4 : 5)),
    MQTT_SHARED_GROUP: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "must match [A-Za-z0-9_-]{1,64}")
      .optional(),
    /** MQTT 5 session expiry: how long the broker keeps queuing requests while the worker is down. */
    MQTT_SESSION_EXPIRY_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .default(7 * 24 * 3600),
    /** How many unacknowledged requests the broker may hand the worker at once (MQTT 5). */
    MQTT_RECEIVE_MAXIMUM: z.coerce.number().int().min(1).max(65535).default(1000),
    MQTT_CA_FILE: z.string().optional(),
    MQTT_CERT_FILE: z.string().optional(),
    MQTT_KEY_FILE: z.string().optional(),

    MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(HARD_MAX_UPLOAD_MB).default(DEFAULT_MAX_UPLOAD_MB),
    UPLOAD_EXPIRES_IN: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(DEFAULT_UPLOAD_EXPIRES_IN),

    /** The sessions store and the named stores (STORE_CONFIGURATION), as the web app reads them. */
    ...ZStorageEnvSchema.shape,
    /** Seconds a download URL of a named store stays valid. */
    DOWNLOAD_EXPIRES_IN: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(3600),

    HTTP_HOST: z.string().default("0.0.0.0"),
    HTTP_PORT: envPort.default(9000),
    /**
     * Slow and idle clients of the HTTP server (the fs upload endpoint): headers must arrive within
     * HTTP_HEADERS_TIMEOUT_SECONDS; open connections are capped overall and per address (0: no cap).
     */
    HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(10),
    HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(2048),
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(128),
    /**
     * fs store uploads in progress: at most FS_UPLOAD_MAX_CONCURRENT (when full, the slowest below
     * the minimum rate is ended for a new one), FS_UPLOAD_MAX_PER_ADDRESS per address (IPv6: per
     * /64; 0: no cap, e.g. behind a proxy); an upload receiving less than
     * FS_UPLOAD_MIN_BYTES_PER_SECOND over FS_UPLOAD_RATE_WINDOW_SECONDS (0: no minimum), or
     * nothing for FS_UPLOAD_IDLE_TIMEOUT_SECONDS, is ended.
     */
    FS_UPLOAD_MAX_CONCURRENT: z.coerce.number().int().min(1).default(256),
    FS_UPLOAD_MAX_PER_ADDRESS: z.coerce.number().int().min(0).default(32),
    FS_UPLOAD_MIN_BYTES_PER_SECOND: z.coerce.number().int().min(0).default(1024),
    FS_UPLOAD_RATE_WINDOW_SECONDS: z.coerce.number().min(0.1).default(10),
    FS_UPLOAD_IDLE_TIMEOUT_SECONDS: z.coerce.number().min(1).default(30),

    /**
     * File transfer over MQTT (docs/protocol.md#file_transfer): largest file (MiB), largest segment
     * (KiB), transfers in flight per device, TTL of an idle transfer (s).
     */
    TRANSFER_MAX_FILE_MB: z.coerce.number().int().min(1).max(HARD_MAX_UPLOAD_MB).default(HARD_MAX_UPLOAD_MB),
    TRANSFER_MAX_SEGMENT_KB: z.coerce.number().int().min(1).max(3072).default(1024),
    TRANSFER_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(16),
    TRANSFER_TTL: z.coerce
      .number()
      .int()
      .min(1)
      .default(24 * 3600),
    /**
     * Multipart uploads over HTTPS (docs/protocol.md#multipart-uploads): largest file (GiB, at most
     * 5120 = 5 TiB, S3's limit), open uploads per device, and how long an upload nobody asks about
     * is kept before it is aborted (s).
     */
    MULTIPART_MAX_FILE_GB: z.coerce.number().int().min(1).max(5120).default(1024),
    MULTIPART_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(16),
    MULTIPART_TTL: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),
    /** Stage file_transfer segment bytes in files in this folder (shared by every worker) instead of PostgreSQL: much faster. */
    TRANSFER_STAGING_DIR: z.string().min(1).optional(),
    /** Payload bytes (MiB) of segments and chunks the worker holds at once before it stops reading from the broker. */
    INBOUND_BUFFER_MB: z.coerce.number().int().min(1).max(1024).default(8),
    /**
     * Chunk forwarding (docs/protocol.md#chunks): largest chunk (KiB), lanes delivered at once,
     * back-off bounds (ms); CHUNK_DELIVERY=false leaves delivery to other workers.
     */
    CHUNK_MAX_KB: z.coerce.number().int().min(1).max(3072).default(1024),
    CHUNK_DELIVERY: envBoolean.default(true),
    CHUNK_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    CHUNK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(1000),
    CHUNK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(300_000),
    ...ZWebhooksEnvSchema.shape,
    /**
     * Webhook delivery (docs/api.md#webhooks): lanes delivered at once, back-off bounds (ms);
     * WEBHOOK_DELIVERY=false leaves delivery to other workers.
     */
    WEBHOOK_DELIVERY: envBoolean.default(true),
    WEBHOOK_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    WEBHOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(2000),
    WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(1_800_000),
    /** Retention (docs/retention.md): how often rules are applied, and sessions deleted per batch. */
    RETENTION_INTERVAL_SECONDS: z.coerce.number().min(1).default(3600),
    RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
    /** Per-device rate limits: JSON overriding some classes' `burst` and `per_second` (see rate-limit.ts), or `off`. */
    RATE_LIMITS: ZRateLimitsSchema.optional(),
    /** Recovery: a pending file whose object storage holds is recorded within PENDING_RECOVERY_SECONDS of a crash or outage. */
    PENDING_RECOVERY_SECONDS: z.coerce.number().min(1).default(60),
    /** How often the pending-file sweeper runs (at most half of PENDING_RECOVERY_SECONDS). */
    SWEEP_INTERVAL_SECONDS: z.coerce.number().min(0.1).default(10),
    /** Upload temp files of the fs store nobody has written for this long are removed (a crash leaves them). */
    STALE_TEMP_FILE_SECONDS: z.coerce.number().int().min(30).default(40),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  })
  .superRefine((env, ctx) => {
    checkStorageEnv(env, ctx);
    if (env.MQTT_CLIENT_ID && env.MQTT_USERNAME && isServiceClientId(env.MQTT_USERNAME) && env.MQTT_CLIENT_ID !== env.MQTT_USERNAME) {
      ctx.addIssue({
        code: "custom",
        path: ["MQTT_CLIENT_ID"],
        message: `must be MQTT_USERNAME (${env.MQTT_USERNAME}) or unset: the broker binds a service account to its own client id`,
      });
    }
    if (env.SWEEP_INTERVAL_SECONDS * 2 > env.PENDING_RECOVERY_SECONDS) {
      ctx.addIssue({ code: "custom", path: ["SWEEP_INTERVAL_SECONDS"], message: "must be at most half of PENDING_RECOVERY_SECONDS" });
    }
    if (Boolean(env.MQTT_CERT_FILE) !== Boolean(env.MQTT_KEY_FILE)) {
      ctx.addIssue({ code: "custom", path: ["MQTT_KEY_FILE"], message: "MQTT_CERT_FILE and MQTT_KEY_FILE go together" });
    }
  });

export type TWorkerEnv = Omit<z.infer<typeof ZWorkerEnvSchema>, "MQTT_CLIENT_ID"> & { MQTT_CLIENT_ID: string };

export class EnvError extends Error {}

/** Parses the environment; throws an EnvError listing every problem, one per line. */
export function parseWorkerEnv(source: Record<string, string | undefined>): TWorkerEnv {
  const result = ZWorkerEnvSchema.safeParse(withoutEmpty(source));
  if (result.success) return { ...result.data, MQTT_CLIENT_ID: workerClientId(result.data) };
  throw new EnvError(`Invalid worker configuration:\n${envIssueLines(result.error).join("\n")}`);
}

/** The client id follows from the credentials when the account is a service client id (docs/brokers.md). */
function workerClientId(env: { MQTT_CLIENT_ID?: string; MQTT_USERNAME?: string }): string {
  if (env.MQTT_CLIENT_ID) return env.MQTT_CLIENT_ID;
  if (env.MQTT_USERNAME && isServiceClientId(env.MQTT_USERNAME)) return env.MQTT_USERNAME;
  return `fleetdrop-ingest:${hostname()}`;
}
