/**
 * Configuration of the provisioning tools (`fleetdrop-admin`, the broker sync), validated once.
 * The web app reads the same variable names in its own env.ts.
 */
import { DEFAULT_TOPIC_PREFIX } from "@fleetdrop/shared/topics";
import { z } from "zod";
import { createSecretBox, parseEncryptionKey, type TSecretBox } from "./crypto/secret-box";

const optional = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

export const ZProvisioningEnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL"),
  /** 32 bytes, base64 or hex: seals the device CAs' private keys. Needed for certificate devices. */
  DEVICE_CA_ENCRYPTION_KEY: optional,
  /** Earlier keys (comma-separated) that still open CA keys until `fleetdrop-admin ca rekey`. */
  DEVICE_CA_ENCRYPTION_KEY_PREVIOUS: optional,
  TOPIC_PREFIX: z.string().default(DEFAULT_TOPIC_PREFIX),
  /** Service accounts the broker sync writes into passwd-services. */
  MQTT_WORKER_PASSWORD: optional,
  MQTT_WEB_PASSWORD: optional,
  BROKER_AUTH_DIR: z.string().default("/mosquitto/auth"),
  BROKER_ACL_TEMPLATE: z.string().default("/mosquitto/config/acl-devices"),
  BROKER_SYNC_INTERVAL_SECONDS: z.coerce.number().min(1).default(30),
  /** Where the broker's TLS certificate lives; the sync creates a self-signed one there if none. */
  BROKER_TLS_DIR: optional,
  BROKER_TLS_HOSTS: z.string().default("localhost"),
  /** What device bundles point at. */
  BROKER_CERTIFICATE_URL: z.string().default("mqtts://localhost:8883"),
  BROKER_PASSWORD_URL: z.string().default("mqtts://localhost:8884"),
  BROKER_CA_FILE: optional,
});

export type TProvisioningEnv = z.infer<typeof ZProvisioningEnvSchema>;

export function parseProvisioningEnv(source: Record<string, string | undefined>): TProvisioningEnv {
  const result = ZProvisioningEnvSchema.safeParse(source);
  if (result.success) return result.data;
  throw new Error(`Invalid environment for fleetdrop-admin:\n${result.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`).join("\n")}`);
}

/** The secret box for the CA keys, or undefined when no key is configured (password devices only). */
export function secretBoxFromEnv(env: Pick<TProvisioningEnv, "DEVICE_CA_ENCRYPTION_KEY" | "DEVICE_CA_ENCRYPTION_KEY_PREVIOUS">): TSecretBox | undefined {
  if (!env.DEVICE_CA_ENCRYPTION_KEY) return undefined;
  const previous = (env.DEVICE_CA_ENCRYPTION_KEY_PREVIOUS ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean)
    .map((key) => parseEncryptionKey(key, "DEVICE_CA_ENCRYPTION_KEY_PREVIOUS"));
  return createSecretBox(parseEncryptionKey(env.DEVICE_CA_ENCRYPTION_KEY), previous);
}
