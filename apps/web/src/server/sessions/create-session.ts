import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";

/** Opens a new session for one of the project's devices (for devices that do not open their own). */
export async function createSession(options: { ctx: TProjectContext; deviceSerial: string; name: string }): Promise<{ id: number }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const device = await db().device.findFirst({ where: { serial: options.deviceSerial, projectId: ctx.project.id }, select: { id: true } });
  if (!device) throw new UserInputError("No device with this serial in this project", "device");
  const session = await db().session.create({
    data: { deviceId: device.id, projectId: ctx.project.id, name: options.name },
    select: { id: true },
  });
  await writeAudit(ctx, {
    action: "session.create",
    targetType: "session",
    targetId: session.id,
    details: { device: options.deviceSerial, name: options.name },
  });
  return session;
}
