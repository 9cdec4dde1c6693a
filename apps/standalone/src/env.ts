/** Settings of the one-command platform; everything has a default that works on a bare machine. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const port = z.coerce.number().int().min(1).max(65535);

const ZStandaloneEnvSchema = z.object({
  FLEETDROP_DATA_DIR: z.string().default(path.join(REPO_ROOT, ".fleetdrop")),
  /** Use this PostgreSQL instead of the embedded one. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL").optional(),
  EMBEDDED_PG_PORT: port.default(5433),
  /** Use this broker instead of the embedded one (with MQTT_USERNAME/MQTT_PASSWORD for the services). */
  MQTT_URL: z.string().optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_PORT: port.default(1883),
  MQTT_HOST: z.string().default("0.0.0.0"),
  WEB_PORT: port.default(3000),
  WORKER_HTTP_PORT: port.default(9000),
  /** Host name devices and browsers use to reach this machine (upload and download URLs). */
  PUBLIC_HOST: z.string().default("localhost"),
  TOPIC_PREFIX: z.string().default("fleetdrop"),
  ADMIN_EMAIL: z.string().email().default("admin@fleetdrop.local"),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  STORAGE_BACKEND: z.enum(["fs", "s3"]).default("fs"),
  LOG_LEVEL: z.string().default("info"),
});

export type TStandaloneEnv = z.infer<typeof ZStandaloneEnvSchema> & { explicit: Set<string> };

export function parseStandaloneEnv(source: Record<string, string | undefined>): TStandaloneEnv {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const result = ZStandaloneEnvSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid settings:\n${lines.join("\n")}`);
  }
  return { ...result.data, explicit: new Set(Object.keys(cleaned)) };
}

/** Storage settings passed through to the worker and the web app when STORAGE_BACKEND=s3. */
export const S3_PASSTHROUGH = ["S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_FORCE_PATH_STYLE", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"];
