import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";

/** A disabled device is refused by the worker (403 device_disabled) until enabled again. */
export async function setDeviceEnabled(options: { ctx: TProjectContext; serial: string; enabled: boolean }): Promise<void> {
  const { ctx, enabled } = options;
  requireRole(ctx, CAN.manageDevices);
  const updated = await db().device.updateMany({ where: { serial: options.serial, projectId: ctx.project.id }, data: { enabled } });
  if (updated.count === 0) throw new NotFoundError("No such device");
  await writeAudit(ctx, { action: enabled ? "device.enable" : "device.disable", targetType: "device", targetId: options.serial });
}
