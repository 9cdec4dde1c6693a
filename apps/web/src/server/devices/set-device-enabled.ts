import "server-only";
import { setDeviceEnabled as setEnabled } from "@fleetdrop/provisioning/devices/set-device-enabled";
import { CAN } from "@/lib/roles";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { asDashboardErrors, provisioningContext } from "./provisioning";

/**
 * A disabled device is refused by the worker (403 device_disabled) until enabled again, and the
 * broker sync cuts it off at the broker (password removed, certificate on hold, topics denied).
 */
export async function setDeviceEnabled(options: { ctx: TProjectContext; serial: string; enabled: boolean }): Promise<void> {
  const { ctx, enabled } = options;
  requireRole(ctx, CAN.manageDevices);
  await asDashboardErrors(setEnabled(provisioningContext(ctx), { serial: options.serial, projectId: ctx.project.id, enabled }));
  await writeAudit(ctx, { action: enabled ? "device.enable" : "device.disable", targetType: "device", targetId: options.serial });
}
