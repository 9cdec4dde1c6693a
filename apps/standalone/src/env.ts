/** Settings of the one-command platform; everything has a default that works on a bare machine. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ZDbEnvSchema } from "@fleetdrop/db/env";
import { envIssueLines, envPort, withoutEmpty } from "@fleetdrop/shared/env";
import { ZMqttEnvSchema } from "@fleetdrop/shared/mqtt-env";
import { ZWorkerEnvSchema } from "@fleetdrop/ingest-worker/env";
import { ZStorageEnvSchema, checkStorageEnv } from "@fleetdrop/storage/env";
import { z } from "zod";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const port = envPort.refine((value) => value >= 1, "must be a port from 1 to 65535");

const ZStandaloneEnvSchema = z
  .object({
    FLEETDROP_DATA_DIR: z.string().default(path.join(REPO_ROOT, ".fleetdrop")),
    /** Use this PostgreSQL instead of the embedded one. */
    DATABASE_URL: ZDbEnvSchema.shape.DATABASE_URL.optional(),
    EMBEDDED_PG_PORT: port.default(5433),
    /** MQTT_URL: use this broker instead of the embedded one (with MQTT_USERNAME/MQTT_PASSWORD for the services); TOPIC_PREFIX. */
    ...ZMqttEnvSchema.shape,
    MQTT_PORT: port.default(1883),
    MQTT_HOST: z.string().default("0.0.0.0"),
    WEB_PORT: port.default(3000),
    WORKER_HTTP_PORT: port.default(9000),
    /** Host name devices and browsers use to reach this machine (upload and download URLs). */
    PUBLIC_HOST: z.string().default("localhost"),
    ADMIN_EMAIL: z.string().email().default("admin@fleetdrop.local"),
    ADMIN_PASSWORD: z.string().min(8).optional(),
    /**
     * STORAGE_BACKEND=s3 with the S3 settings, passed to the worker and the web app;
     * STORE_CONFIGURATION likewise. (fs: the embedded store.)
     */
    ...ZStorageEnvSchema.pick({
      STORAGE_BACKEND: true,
      S3_BUCKET: true,
      S3_REGION: true,
      S3_ENDPOINT: true,
      S3_FORCE_PATH_STYLE: true,
      S3_ACCESS_KEY_ID: true,
      S3_SECRET_ACCESS_KEY: true,
      STORE_CONFIGURATION: true,
    }).shape,
    LOG_LEVEL: ZWorkerEnvSchema.shape.LOG_LEVEL,
  })
  .superRefine((env, ctx) => checkStorageEnv(env, ctx, { fsSecretProvided: true }));

export type TStandaloneEnv = z.infer<typeof ZStandaloneEnvSchema> & { explicit: Set<string> };

export function parseStandaloneEnv(source: Record<string, string | undefined>): TStandaloneEnv {
  const cleaned = withoutEmpty(source);
  const result = ZStandaloneEnvSchema.safeParse(cleaned);
  if (!result.success) throw new Error(`Invalid settings:\n${envIssueLines(result.error).join("\n")}`);
  return { ...result.data, explicit: new Set(Object.keys(cleaned)) };
}
