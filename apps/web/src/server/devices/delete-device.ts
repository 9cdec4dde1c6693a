import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { deleteObjects } from "@/server/stores/delete-objects";
import { sessionsStore } from "@/server/stores/sessions-store";

/**
 * Deletes a device, all its sessions and their file records, then the stored objects under
 * `sessions/{serial}/`. It cannot connect again unless registered anew.
 */
export async function deleteDevice(options: {
  ctx: TProjectContext;
  serial: string;
}): Promise<{ sessions: number; files: number; objectsLeft: number }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const prisma = db();
  const device = await prisma.device.findFirst({
    where: { serial: options.serial, projectId: ctx.project.id },
    select: { id: true, name: true },
  });
  if (!device) throw new NotFoundError("No such device");
  const [sessions, files, keys] = await Promise.all([
    prisma.session.count({ where: { deviceId: device.id } }),
    prisma.file.count({ where: { session: { deviceId: device.id } } }),
    prisma.file.findMany({ where: { session: { deviceId: device.id } }, select: { objectKey: true } }),
  ]);
  await prisma.device.delete({ where: { id: device.id } });
  const result = await deleteObjects(
    sessionsStore(),
    keys.map((k) => k.objectKey),
  );
  await writeAudit(ctx, {
    action: "device.delete",
    targetType: "device",
    targetId: options.serial,
    details: { name: device.name, sessions, files, objectsNotDeleted: result.failed.length },
  });
  return { sessions, files, objectsLeft: result.failed.length };
}
