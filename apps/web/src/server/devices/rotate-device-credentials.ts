import "server-only";
import type { TAuthMode } from "@fleetdrop/provisioning/devices/credentials";
import { rotateDeviceCredentials as rotate } from "@fleetdrop/provisioning/devices/rotate-credentials";
import { CAN } from "@/lib/roles";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { asDashboardErrors, issuedDevice, provisioningContext, requireAuthModeAvailable, type TIssuedDevice } from "./provisioning";

/**
 * New credentials for a device of the project; its sessions and files stay. The old password
 * stops working at once; an old certificate is revoked after `graceHours` (0: at once).
 */
export async function rotateDeviceCredentials(options: {
  ctx: TProjectContext;
  serial: string;
  authMode?: TAuthMode;
  graceHours?: number;
}): Promise<TIssuedDevice> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  if (options.authMode) requireAuthModeAvailable(options.authMode);
  const rotated = await asDashboardErrors(
    rotate(provisioningContext(ctx), {
      serial: options.serial,
      projectId: ctx.project.id,
      ...(options.authMode ? { authMode: options.authMode } : {}),
      graceSeconds: Math.round((options.graceHours ?? 0) * 3600),
    }),
  );
  await writeAudit(ctx, {
    action: "device.rotate_credentials",
    targetType: "device",
    targetId: rotated.device.serial,
    details: { authMode: rotated.credentials.authMode, graceHours: options.graceHours ?? 0 },
  });
  return issuedDevice(rotated);
}
