import "server-only";
import { CAN } from "@/lib/roles";
import { toPresence, type TDevicePresence } from "@/lib/presence";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TDeviceRow = {
  id: string;
  serial: string;
  name: string;
  enabled: boolean;
  authMode: "password" | "certificate";
  lastSeenAt: string | null;
  createdAt: string;
  sessions: number;
  openSessions: number;
  presence: TDevicePresence;
};

/** The project's devices with their session counts, by serial. */
export async function listDevices(options: { ctx: TProjectContext }): Promise<TDeviceRow[]> {
  requireRole(options.ctx, CAN.browse);
  const prisma = db();
  const [devices, counts] = await Promise.all([
    prisma.device.findMany({
      where: { projectId: options.ctx.project.id },
      orderBy: { serial: "asc" },
      select: {
        id: true,
        serial: true,
        name: true,
        enabled: true,
        authMode: true,
        lastSeenAt: true,
        createdAt: true,
        presenceOnline: true,
        presenceSince: true,
        presenceVia: true,
      },
    }),
    prisma.session.groupBy({ by: ["deviceId", "state"], where: { projectId: options.ctx.project.id }, _count: { _all: true } }),
  ]);
  const byDevice = new Map<string, { sessions: number; open: number }>();
  for (const c of counts) {
    const entry = byDevice.get(c.deviceId) ?? { sessions: 0, open: 0 };
    entry.sessions += c._count._all;
    if (c.state === "open") entry.open += c._count._all;
    byDevice.set(c.deviceId, entry);
  }
  return devices.map(({ presenceOnline, presenceSince, presenceVia, ...d }) => ({
    ...d,
    presence: toPresence({ presenceOnline, presenceSince, presenceVia }),
    lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    sessions: byDevice.get(d.id)?.sessions ?? 0,
    openSessions: byDevice.get(d.id)?.open ?? 0,
  }));
}
