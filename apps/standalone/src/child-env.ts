/**
 * The environments of the worker and the web app, built from the settings modules they validate
 * with (`@fleetdrop/db/env`, `@fleetdrop/shared/mqtt-env`, `@fleetdrop/storage/env`, the worker's
 * own schema): a typed object per module, in the form the child's validation yields, turned into
 * text only at the end, so a renamed or retyped setting fails the type check here instead of the
 * child at start-up.
 */
import type { TDbEnv } from "@fleetdrop/db/env";
import type { TWorkerEnv } from "@fleetdrop/ingest-worker/env";
import { isServiceClientId } from "@fleetdrop/shared/acl";
import { toEnvVariables } from "@fleetdrop/shared/env";
import type { TMqttEnv } from "@fleetdrop/shared/mqtt-env";
import type { TStorageEnv } from "@fleetdrop/storage/env";

/** The service account a child connects to the broker with. */
export type TBrokerAccount = { username?: string; password?: string };

export type TChildEnvInput = {
  databaseUrl: string;
  mqttUrl: string;
  topicPrefix: string;
  worker: TBrokerAccount & { protocolVersion: TWorkerEnv["MQTT_PROTOCOL_VERSION"] };
  web: TBrokerAccount;
  /** Set when the embedded broker runs: bundles point password devices at it (MQTT 3.1.1, no TLS). */
  embeddedBrokerUrl?: string;
  /** s3: the operator's S3 settings as validated; fs: the embedded store. */
  storage:
    | {
        backend: "s3";
        settings: Pick<
          TStorageEnv,
          "S3_BUCKET" | "S3_REGION" | "S3_ENDPOINT" | "S3_FORCE_PATH_STYLE" | "S3_ACCESS_KEY_ID" | "S3_SECRET_ACCESS_KEY"
        >;
      }
    | { backend: "fs"; storeDir: string; publicUrl: string; secretAccessKey: string };
  storeConfiguration?: string;
  workerHttpPort: number;
  /** fs only: file_transfer segments staged beside the store (one worker, one disk). */
  transferStagingDir?: string;
  logLevel: TWorkerEnv["LOG_LEVEL"];
  /** WEBHOOK_SECRET_KEY of both (base64; the schema yields the decoded bytes, so it is passed as text). */
  webhookSecretKey: string;
};

function storageSettings(input: TChildEnvInput): Partial<TStorageEnv> {
  const named = { STORE_CONFIGURATION: input.storeConfiguration };
  if (input.storage.backend === "s3") {
    // Copied one by one: the settings object may be the platform's whole environment.
    const { S3_BUCKET, S3_REGION, S3_ENDPOINT, S3_FORCE_PATH_STYLE, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = input.storage.settings;
    return {
      STORAGE_BACKEND: "s3",
      S3_BUCKET,
      S3_REGION,
      S3_ENDPOINT,
      S3_FORCE_PATH_STYLE,
      S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY,
      ...named,
    };
  }
  return {
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: input.storage.storeDir,
    FS_PUBLIC_URL: input.storage.publicUrl,
    FS_SECRET_ACCESS_KEY: input.storage.secretAccessKey,
    ...named,
  };
}

export function workerEnvironment(input: TChildEnvInput): Record<string, string> {
  const db: TDbEnv = { DATABASE_URL: input.databaseUrl };
  const mqtt: TMqttEnv = {
    MQTT_URL: input.mqttUrl,
    MQTT_USERNAME: input.worker.username,
    MQTT_PASSWORD: input.worker.password,
    TOPIC_PREFIX: input.topicPrefix,
  };
  const own: Partial<Pick<TWorkerEnv, "MQTT_PROTOCOL_VERSION" | "MQTT_CLIENT_ID" | "HTTP_PORT" | "LOG_LEVEL" | "TRANSFER_STAGING_DIR">> = {
    MQTT_PROTOCOL_VERSION: input.worker.protocolVersion,
    // A service account that is a client id (the embedded broker's, the shipped Mosquitto's)
    // gives the worker its client id; on another broker's account the worker needs one.
    ...(input.worker.username && isServiceClientId(input.worker.username) ? {} : { MQTT_CLIENT_ID: "fleetdrop-ingest:embedded" }),
    HTTP_PORT: input.workerHttpPort,
    LOG_LEVEL: input.logLevel,
    ...(input.storage.backend === "fs" && input.transferStagingDir ? { TRANSFER_STAGING_DIR: input.transferStagingDir } : {}),
  };
  return toEnvVariables({ ...db, ...own, ...mqtt, ...storageSettings(input), WEBHOOK_SECRET_KEY: input.webhookSecretKey });
}

/** The web app's own settings (apps/web/src/env.ts) next to the modules it composes. */
type TWebOwnSettings = {
  NODE_ENV: "production";
  NEXTAUTH_URL: string;
  NEXTAUTH_SECRET: string;
  BROKER_PASSWORD_URL?: string;
  BROKER_PROTOCOL_VERSION?: 4 | 5;
};

export function webEnvironment(input: TChildEnvInput, web: { url: string; nextAuthSecret: string }): Record<string, string> {
  const db: TDbEnv = { DATABASE_URL: input.databaseUrl };
  const mqtt: TMqttEnv = {
    MQTT_URL: input.mqttUrl,
    MQTT_USERNAME: input.web.username,
    MQTT_PASSWORD: input.web.password,
    TOPIC_PREFIX: input.topicPrefix,
  };
  const own: TWebOwnSettings = {
    NODE_ENV: "production",
    NEXTAUTH_URL: web.url,
    NEXTAUTH_SECRET: web.nextAuthSecret,
    ...(input.embeddedBrokerUrl ? { BROKER_PASSWORD_URL: input.embeddedBrokerUrl, BROKER_PROTOCOL_VERSION: 4 as const } : {}),
  };
  return toEnvVariables({ ...own, ...db, ...mqtt, ...storageSettings(input), WEBHOOK_SECRET_KEY: input.webhookSecretKey });
}
