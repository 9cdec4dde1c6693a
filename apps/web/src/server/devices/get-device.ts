import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { DEVICE_VIEW_SELECT, deviceView, type TDeviceView } from "@/server/devices/device-view";

export type TDeviceDetail = TDeviceView & {
  /** What deleting it would remove. */
  impact: { sessions: number; files: number; uploadedFiles: number; bytes: string };
};

/** A device of the context's project by serial, or 404. */
export async function getDevice(options: { ctx: TProjectContext; serial: string }): Promise<TDeviceDetail> {
  requireRole(options.ctx, CAN.browse);
  const prisma = db();
  const device = await prisma.device.findFirst({
    where: { serial: options.serial, projectId: options.ctx.project.id },
    select: DEVICE_VIEW_SELECT,
  });
  if (!device) throw new NotFoundError("No such device");
  const [sessions, files] = await Promise.all([
    prisma.session.count({ where: { deviceId: device.id } }),
    prisma.file.groupBy({ by: ["state"], where: { session: { deviceId: device.id } }, _count: { _all: true }, _sum: { size: true } }),
  ]);
  let total = 0;
  let uploaded = 0;
  let bytes = 0n;
  for (const g of files) {
    total += g._count._all;
    if (g.state === "uploaded") uploaded += g._count._all;
    bytes += g._sum.size ?? 0n;
  }
  return {
    ...deviceView(device),
    impact: { sessions, files: total, uploadedFiles: uploaded, bytes: bytes.toString() },
  };
}
