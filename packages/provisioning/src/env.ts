/**
 * Device provisioning settings. `ZDeviceCredentialsEnvSchema` is what the web app and the
 * provisioning tools (`fleetdrop-admin`, the broker sync) both read: the CA key and what credential
 * bundles point devices at. `ZProvisioningEnvSchema` adds the tools' own settings.
 */
import { ZDbEnvSchema } from "@fleetdrop/db/env";
import { withoutEmpty } from "@fleetdrop/shared/env";
import { ZMqttEnvSchema } from "@fleetdrop/shared/mqtt-env";
import { z } from "zod";
import { parseServiceAccounts } from "./broker/mosquitto-services";
import { createSecretBox, parseEncryptionKey, type TSecretBox } from "@fleetdrop/shared/crypto/secret-box";

/** Where bundles point certificate and password devices when BROKER_CERTIFICATE_URL / BROKER_PASSWORD_URL are unset. */
export const DEFAULT_BROKER_CERTIFICATE_URL = "mqtts://localhost:8883";
export const DEFAULT_BROKER_PASSWORD_URL = "mqtts://localhost:8884";

export const ZDeviceCredentialsEnvSchema = z.object({
  /** 32 bytes, base64 or hex: seals the device CAs' private keys. Needed for certificate devices. */
  DEVICE_CA_ENCRYPTION_KEY: z.string().trim().optional(),
  /** Earlier keys (comma-separated) that still open CA keys until `fleetdrop-admin ca rekey`. */
  DEVICE_CA_ENCRYPTION_KEY_PREVIOUS: z.string().trim().optional(),
  /** What credential bundles point devices at: the broker's mutual-TLS and password listeners, its CA file. */
  BROKER_CERTIFICATE_URL: z.string().trim().optional(),
  BROKER_PASSWORD_URL: z.string().trim().optional(),
  BROKER_CA_FILE: z.string().trim().optional(),
});

export type TDeviceCredentialsEnv = z.infer<typeof ZDeviceCredentialsEnvSchema>;

/** The broker URLs a credential bundle names; `passwordFallback` stands in for an unset BROKER_PASSWORD_URL before the default. */
export function bundleBrokerUrls(env: TDeviceCredentialsEnv, passwordFallback?: string): { certificateUrl: string; passwordUrl: string } {
  return {
    certificateUrl: env.BROKER_CERTIFICATE_URL || DEFAULT_BROKER_CERTIFICATE_URL,
    passwordUrl: env.BROKER_PASSWORD_URL || passwordFallback || DEFAULT_BROKER_PASSWORD_URL,
  };
}

export const ZProvisioningEnvSchema = z.object({
  ...ZDbEnvSchema.shape,
  ...ZDeviceCredentialsEnvSchema.shape,
  TOPIC_PREFIX: ZMqttEnvSchema.shape.TOPIC_PREFIX,
  /**
   * The services' broker accounts the sync writes (one per worker instance and web app, each
   * bound to its client id): `<client id>=<password>` pairs separated by whitespace, e.g.
   * `fleetdrop-ingest:1=… fleetdrop-ingest:2=… fleetdrop-web:1=…` (broker/mosquitto-services.ts).
   */
  MQTT_SERVICE_ACCOUNTS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      try {
        return parseServiceAccounts(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  BROKER_AUTH_DIR: z.string().default("/mosquitto/auth"),
  BROKER_ACL_TEMPLATE: z.string().default("/mosquitto/config/acl-devices"),
  BROKER_SYNC_INTERVAL_SECONDS: z.coerce.number().min(1).default(30),
  /** Where the broker's TLS certificate lives; the sync creates a self-signed one there if none. */
  BROKER_TLS_DIR: z.string().optional(),
  BROKER_TLS_HOSTS: z.string().default("localhost"),
});

export type TProvisioningEnv = z.infer<typeof ZProvisioningEnvSchema>;

export function parseProvisioningEnv(source: Record<string, string | undefined>): TProvisioningEnv {
  // Empty strings mean "not set" (docker-compose passes unset variables as empty).
  const result = ZProvisioningEnvSchema.safeParse(withoutEmpty(source));
  if (result.success) return result.data;
  throw new Error(
    `Invalid environment for fleetdrop-admin:\n` +
      result.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`).join("\n"),
  );
}

/** The secret box for the CA keys, or undefined when no key is configured (password devices only). */
export function secretBoxFromEnv(
  env: Pick<TProvisioningEnv, "DEVICE_CA_ENCRYPTION_KEY" | "DEVICE_CA_ENCRYPTION_KEY_PREVIOUS">,
): TSecretBox | undefined {
  if (!env.DEVICE_CA_ENCRYPTION_KEY) return undefined;
  const previous = (env.DEVICE_CA_ENCRYPTION_KEY_PREVIOUS ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean)
    .map((key) => parseEncryptionKey(key, "DEVICE_CA_ENCRYPTION_KEY_PREVIOUS"));
  return createSecretBox(parseEncryptionKey(env.DEVICE_CA_ENCRYPTION_KEY), previous);
}
