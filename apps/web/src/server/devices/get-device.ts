import "server-only";
import { CAN } from "@/lib/roles";
import { toPresence, type TDevicePresence } from "@/lib/presence";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { AGENT_STATUS_SELECT, agentStatusView, type TAgentStatusView } from "@/server/devices/agent-status";

export type TDeviceDetail = {
  id: string;
  serial: string;
  name: string;
  enabled: boolean;
  authMode: "password" | "certificate";
  lastSeenAt: string | null;
  createdAt: string;
  presence: TDevicePresence;
  /** What deleting it would remove. */
  impact: { sessions: number; files: number; uploadedFiles: number; bytes: string };
  /** What its upload agent last reported; null when it runs none. */
  agent: TAgentStatusView | null;
};

/** A device of the context's project by serial, or 404. */
export async function getDevice(options: { ctx: TProjectContext; serial: string }): Promise<TDeviceDetail> {
  requireRole(options.ctx, CAN.browse);
  const prisma = db();
  const device = await prisma.device.findFirst({
    where: { serial: options.serial, projectId: options.ctx.project.id },
    select: {
      id: true,
      serial: true,
      name: true,
      enabled: true,
      authMode: true,
      lastSeenAt: true,
      createdAt: true,
      agentStatus: { select: AGENT_STATUS_SELECT },
      presenceOnline: true,
      presenceSince: true,
      presenceVia: true,
    },
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
  const { agentStatus, presenceOnline, presenceSince, presenceVia, ...fields } = device;
  return {
    ...fields,
    agent: agentStatusView(agentStatus),
    presence: toPresence({ presenceOnline, presenceSince, presenceVia }),
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    createdAt: device.createdAt.toISOString(),
    impact: { sessions, files: total, uploadedFiles: uploaded, bytes: bytes.toString() },
  };
}
