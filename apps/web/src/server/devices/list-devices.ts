import "server-only";
import type { Prisma } from "@fleetdrop/db";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { DEVICE_VIEW_SELECT, deviceView, type TDeviceView } from "@/server/devices/device-view";

export type TDeviceRow = TDeviceView & { sessions: number; openSessions: number };

export type TDeviceListQuery = { q?: string; enabled?: boolean; page: number };
export type TDeviceList = { rows: TDeviceRow[]; total: number; page: number; pageSize: number };

export const DEVICE_PAGE_SIZE = 50;

/** Devices matching `where`, by serial, with their session counts (counted for these devices only). */
async function deviceRows(
  projectId: string,
  where: Prisma.DeviceWhereInput,
  paging?: { skip: number; take: number },
): Promise<TDeviceRow[]> {
  const prisma = db();
  const devices = await prisma.device.findMany({
    where: { ...where, projectId },
    orderBy: { serial: "asc" },
    ...paging,
    select: DEVICE_VIEW_SELECT,
  });
  const counts = devices.length
    ? await prisma.session.groupBy({
        by: ["deviceId", "state"],
        where: { projectId, deviceId: { in: devices.map((d) => d.id) } },
        _count: { _all: true },
      })
    : [];
  const byDevice = new Map<string, { sessions: number; open: number }>();
  for (const c of counts) {
    const entry = byDevice.get(c.deviceId) ?? { sessions: 0, open: 0 };
    entry.sessions += c._count._all;
    if (c.state === "open") entry.open += c._count._all;
    byDevice.set(c.deviceId, entry);
  }
  return devices.map((d) => ({
    ...deviceView(d),
    sessions: byDevice.get(d.id)?.sessions ?? 0,
    openSessions: byDevice.get(d.id)?.open ?? 0,
  }));
}

/** The project's devices with their session counts, by serial. */
export async function listDevices(options: { ctx: TProjectContext }): Promise<TDeviceRow[]> {
  requireRole(options.ctx, CAN.browse);
  return deviceRows(options.ctx.project.id, {});
}

/** One page of the project's devices, filtered by serial or name and enabled state. */
export async function listDevicesPage(options: { ctx: TProjectContext; query: TDeviceListQuery }): Promise<TDeviceList> {
  const { ctx, query } = options;
  requireRole(ctx, CAN.browse);
  const where: Prisma.DeviceWhereInput = {
    ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
    ...(query.q
      ? { OR: [{ serial: { contains: query.q, mode: "insensitive" } }, { name: { contains: query.q, mode: "insensitive" } }] }
      : {}),
  };
  const [rows, total] = await Promise.all([
    deviceRows(ctx.project.id, where, { skip: (query.page - 1) * DEVICE_PAGE_SIZE, take: DEVICE_PAGE_SIZE }),
    db().device.count({ where: { ...where, projectId: ctx.project.id } }),
  ]);
  return { rows, total, page: query.page, pageSize: DEVICE_PAGE_SIZE };
}
