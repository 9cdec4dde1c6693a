/** Turns the validated environment into the worker's configuration and store settings. */
import path from "node:path";
import { DEFAULT_MQTT_URL } from "@fleetdrop/shared/mqtt-env";
import { webhookSecretBox } from "@fleetdrop/shared/webhooks/env";
import type { TWorkerEnv } from "./env";
import type { TIngestWorkerConfig } from "./worker";

export function workerConfigFromEnv(env: TWorkerEnv): TIngestWorkerConfig {
  return {
    databaseUrl: env.DATABASE_URL,
    dbPoolSize: env.DB_POOL_SIZE,
    dbBatchConcurrency: env.DB_BATCH_CONCURRENCY,
    mqtt: {
      url: env.MQTT_URL ?? DEFAULT_MQTT_URL,
      clientId: env.MQTT_CLIENT_ID,
      protocolVersion: env.MQTT_PROTOCOL_VERSION,
      username: env.MQTT_USERNAME,
      password: env.MQTT_PASSWORD,
      sessionExpirySeconds: env.MQTT_SESSION_EXPIRY_SECONDS,
      receiveMaximum: env.MQTT_RECEIVE_MAXIMUM,
      caFile: env.MQTT_CA_FILE,
      certFile: env.MQTT_CERT_FILE,
      keyFile: env.MQTT_KEY_FILE,
      sharedGroup: env.MQTT_SHARED_GROUP,
    },
    topicPrefix: env.TOPIC_PREFIX,
    maxUploadMb: env.MAX_UPLOAD_MB,
    uploadExpiresInSeconds: env.UPLOAD_EXPIRES_IN,
    http: {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      limits: {
        headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
        maxConnections: env.HTTP_MAX_CONNECTIONS,
        maxConnectionsPerAddress: env.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
      },
    },
    sweepIntervalMs: env.SWEEP_INTERVAL_SECONDS * 1000,
    recovery: {
      // A file is checked again at most this long after its last check; the sweeper's next run
      // follows within SWEEP_INTERVAL_SECONDS: together PENDING_RECOVERY_SECONDS.
      pendingRecheckMaxMs: (env.PENDING_RECOVERY_SECONDS - env.SWEEP_INTERVAL_SECONDS) * 1000,
      staleTempFileMs: env.STALE_TEMP_FILE_SECONDS * 1000,
    },
    ...(env.RATE_LIMITS === undefined ? {} : { rateLimits: env.RATE_LIMITS }),
    transfer: {
      maxFileBytes: env.TRANSFER_MAX_FILE_MB * 1024 * 1024,
      maxSegmentBytes: env.TRANSFER_MAX_SEGMENT_KB * 1024,
      maxActivePerDevice: env.TRANSFER_MAX_IN_FLIGHT,
      ttlSeconds: env.TRANSFER_TTL,
      inboundBudgetBytes: env.INBOUND_BUFFER_MB * 1024 * 1024,
      stagingDir: env.TRANSFER_STAGING_DIR ? path.resolve(env.TRANSFER_STAGING_DIR) : null,
    },
    multipart: {
      maxFileBytes: env.MULTIPART_MAX_FILE_GB * 1024 * 1024 * 1024,
      maxOpenPerDevice: env.MULTIPART_MAX_IN_FLIGHT,
      ttlSeconds: env.MULTIPART_TTL,
    },
    chunks: {
      maxChunkBytes: env.CHUNK_MAX_KB * 1024,
      deliver: env.CHUNK_DELIVERY,
      concurrency: env.CHUNK_DELIVERY_CONCURRENCY,
      backoffBaseMs: env.CHUNK_BACKOFF_BASE_MS,
      backoffMaxMs: env.CHUNK_BACKOFF_MAX_MS,
    },
    webhooks: {
      deliver: env.WEBHOOK_DELIVERY,
      allowPrivateAddresses: env.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
      secretBox: webhookSecretBox(env),
      concurrency: env.WEBHOOK_DELIVERY_CONCURRENCY,
      backoffBaseMs: env.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: env.WEBHOOK_BACKOFF_MAX_MS,
    },
    retention: { intervalMs: env.RETENTION_INTERVAL_SECONDS * 1000, batchSize: env.RETENTION_BATCH_SIZE },
    downloadExpiresInSeconds: env.DOWNLOAD_EXPIRES_IN,
  };
}

/** The fs upload endpoint's limits on slow and idle clients (createFsEndpoint options). */
export function fsEndpointLimitsFromEnv(env: TWorkerEnv) {
  return {
    maxConcurrentUploads: env.FS_UPLOAD_MAX_CONCURRENT,
    maxUploadsPerAddress: env.FS_UPLOAD_MAX_PER_ADDRESS,
    minBytesPerSecond: env.FS_UPLOAD_MIN_BYTES_PER_SECOND,
    rateWindowMs: env.FS_UPLOAD_RATE_WINDOW_SECONDS * 1000,
    idleTimeoutMs: env.FS_UPLOAD_IDLE_TIMEOUT_SECONDS * 1000,
  };
}
