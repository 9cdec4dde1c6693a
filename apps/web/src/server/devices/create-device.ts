import "server-only";
import { createDevice as provisionDevice } from "@fleetdrop/provisioning/devices/create-device";
import type { TAuthMode } from "@fleetdrop/provisioning/devices/credentials";
import { CAN } from "@/lib/roles";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { asDashboardErrors, issuedDevice, provisioningContext, requireAuthModeAvailable, type TIssuedDevice } from "./provisioning";

/**
 * Registers a device with its credentials (packages/provisioning): a generated password, or an
 * X.509 client certificate from the project's device CA. The secret is returned once, with a
 * bundle (broker address, CA, credentials, device config); the platform keeps only hashes or
 * the certificate.
 */
export async function createDevice(options: {
  ctx: TProjectContext;
  serial: string;
  name: string;
  authMode?: TAuthMode;
}): Promise<TIssuedDevice> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const authMode = options.authMode ?? "password";
  requireAuthModeAvailable(authMode);
  const created = await asDashboardErrors(
    provisionDevice(provisioningContext(ctx), { projectId: ctx.project.id, serial: options.serial, name: options.name, authMode }),
  );
  await writeAudit(ctx, {
    action: "device.create",
    targetType: "device",
    targetId: created.device.serial,
    details: { name: created.device.name, authMode },
  });
  return issuedDevice(created);
}
