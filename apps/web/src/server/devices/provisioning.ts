import "server-only";
import { actorLabel } from "@/server/audit/write-audit";
import { readFileSync } from "node:fs";
import { bundleFileName, createCredentialBundle, type TBrokerEndpoints } from "@fleetdrop/provisioning/bundle";
import { ProvisioningError, type TProvisioningContext } from "@fleetdrop/provisioning/context";
import type { TCreatedDevice } from "@fleetdrop/provisioning/devices/create-device";
import type { TAuthMode } from "@fleetdrop/provisioning/devices/credentials";
import { bundleBrokerUrls, secretBoxFromEnv } from "@fleetdrop/provisioning/env";
import type { TSecretBox } from "@fleetdrop/shared/crypto/secret-box";
import { env } from "@/env";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import type { TProjectContext } from "@/server/auth/project-context";

/** What the dashboard hands an admin once: the secret to show and the bundle to download. */
export type TIssuedDevice = {
  serial: string;
  authMode: TAuthMode;
  /** Password devices only; certificate devices get their key in the bundle. */
  password?: string;
  bundle: { fileName: string; base64: string };
};

let secrets: TSecretBox | undefined | null = null;

function secretBox(): TSecretBox | undefined {
  if (secrets === null) secrets = secretBoxFromEnv(env);
  return secrets;
}

/** Certificate devices need the CA key seal and a mutual-TLS listener to point them at. */
export function certificateDevicesAvailable(): { available: boolean; reason?: string } {
  if (!env.DEVICE_CA_ENCRYPTION_KEY) return { available: false, reason: "Set DEVICE_CA_ENCRYPTION_KEY to issue device certificates." };
  if (!env.BROKER_CERTIFICATE_URL)
    return { available: false, reason: "Set BROKER_CERTIFICATE_URL (the broker's mutual-TLS listener) to issue device certificates." };
  return { available: true };
}

export function requireAuthModeAvailable(authMode: TAuthMode): void {
  if (authMode !== "certificate") return;
  const { available, reason } = certificateDevicesAvailable();
  if (!available) throw new UserInputError(`Certificate devices are not set up on this server. ${reason}`, "auth");
}

export function provisioningContext(ctx: TProjectContext): TProvisioningContext {
  return { prisma: db(), secrets: secretBox(), actor: actorLabel(ctx) };
}

function brokerEndpoints(): TBrokerEndpoints {
  let brokerCaPem: string | undefined;
  if (env.BROKER_CA_FILE) {
    try {
      brokerCaPem = readFileSync(env.BROKER_CA_FILE, "utf8");
    } catch {
      brokerCaPem = undefined;
    }
  }
  return {
    ...bundleBrokerUrls(env, env.MQTT_URL),
    topicPrefix: env.TOPIC_PREFIX,
    ...(brokerCaPem ? { brokerCaPem } : {}),
    ...(env.BROKER_PROTOCOL_VERSION ? { protocolVersion: env.BROKER_PROTOCOL_VERSION } : {}),
  };
}

export function issued(devices: TCreatedDevice[]): { bundle: TIssuedDevice["bundle"] } {
  return {
    bundle: {
      fileName: bundleFileName(devices),
      base64: Buffer.from(createCredentialBundle(devices, brokerEndpoints())).toString("base64"),
    },
  };
}

export function issuedDevice(created: TCreatedDevice): TIssuedDevice {
  return {
    serial: created.device.serial,
    authMode: created.credentials.authMode,
    ...(created.credentials.authMode === "password" ? { password: created.credentials.password } : {}),
    ...issued([created]),
  };
}

/** Provisioning refusals as the dashboard's errors: a field to fix, or a 404. */
export async function asDashboardErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof ProvisioningError)) throw error;
    switch (error.code) {
      case "device_not_found":
      case "project_not_found":
        throw new NotFoundError("No such device");
      case "serial_taken":
        // Serials are unique across the platform: don't say in which project it is.
        throw new UserInputError("A device with this serial is already registered", "serial");
      case "invalid_serial":
      case "reserved_serial":
        throw new UserInputError(error.message, "serial");
      case "invalid_csv":
        throw new UserInputError(error.message, "csv");
      case "secrets_missing":
        throw new UserInputError(error.message, "auth");
    }
  }
}
