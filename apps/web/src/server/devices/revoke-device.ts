import "server-only";
import { revokeDevice as revoke } from "@fleetdrop/provisioning/devices/revoke-device";
import { CAN } from "@/lib/roles";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { asDashboardErrors, provisioningContext } from "./provisioning";

/**
 * For a lost or stolen device: its certificates go into the CRL, its password is erased and it
 * is disabled; its sessions and files stay. Rotating its credentials and enabling it brings it back.
 */
export async function revokeDevice(options: { ctx: TProjectContext; serial: string }): Promise<{ revokedCertificates: number }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const result = await asDashboardErrors(revoke(provisioningContext(ctx), { serial: options.serial, projectId: ctx.project.id }));
  await writeAudit(ctx, { action: "device.revoke", targetType: "device", targetId: options.serial, details: result });
  return result;
}
