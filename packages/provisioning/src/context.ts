/** What every provisioning function works with. */
import type { TPrismaClient } from "@fleetdrop/db";
import type { TSecretBox } from "@fleetdrop/shared/crypto/secret-box";

export type TProvisioningContext = {
  prisma: TPrismaClient;
  /** Opens and seals the device CAs' private keys; required for certificate devices. */
  secrets?: TSecretBox;
  /** Who acts, as the credential history shows it (an e-mail, `fleetdrop-admin`, `system`). */
  actor: string;
  /** Validity of new device certificates in days (default 3650). */
  certificateDays?: number;
};

export type TProvisioningErrorCode =
  "invalid_serial" | "reserved_serial" | "serial_taken" | "device_not_found" | "project_not_found" | "secrets_missing" | "invalid_csv";

/** A refusal the caller shows to a person (bad input, unknown device); not a bug. */
export class ProvisioningError extends Error {
  constructor(
    readonly code: TProvisioningErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * MQTT usernames of the platform's own services: no device may take them (a device called
 * `fleetdrop-worker` would otherwise share a broker username with the ingest worker).
 */
export const RESERVED_DEVICE_IDS = ["fleetdrop-worker", "fleetdrop-web", "fleetdrop-admin", "fleetdrop-sync"];

export function requireSecrets(ctx: TProvisioningContext): TSecretBox {
  if (!ctx.secrets) {
    throw new ProvisioningError(
      "secrets_missing",
      "certificate devices need DEVICE_CA_ENCRYPTION_KEY (it seals the project's device CA key)",
    );
  }
  return ctx.secrets;
}
