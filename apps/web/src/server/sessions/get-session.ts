import { toPresence, type TDevicePresence } from "@/lib/presence";
import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

const SESSION_DETAIL_SELECT = {
  id: true,
  name: true,
  state: true,
  keep: true,
  deletingAt: true,
  metadata: true,
  startedAt: true,
  endedAt: true,
  device: { select: { id: true, serial: true, name: true, enabled: true, presenceOnline: true, presenceSince: true, presenceVia: true } },
} as const;

export type TSessionDetail = {
  id: number;
  name: string;
  state: "open" | "closed";
  /** Marked *keep*: no retention rule deletes it. */
  keep: boolean;
  /** A retention run is deleting it. */
  deleting: boolean;
  metadata: unknown;
  startedAt: string;
  endedAt: string | null;
  device: { id: string; serial: string; name: string; enabled: boolean; presence: TDevicePresence };
  totals: { files: number; bytes: string; pending: number; uploaded: number; expired: number; failed: number };
};

/** Parses a session id from a URL; anything else is a 404. */
export function parseSessionId(value: string | number): number {
  const n = typeof value === "number" ? value : /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) throw new NotFoundError("No such session");
  return n;
}

/** A session of the context's project, with totals per file state; 404 for any other. */
export async function getSession(options: { ctx: TProjectContext; sessionId: number | string }): Promise<TSessionDetail> {
  requireRole(options.ctx, CAN.browse);
  const id = parseSessionId(options.sessionId);
  const prisma = db();
  const session = await prisma.session.findFirst({ where: { id, projectId: options.ctx.project.id }, select: SESSION_DETAIL_SELECT });
  if (!session) throw new NotFoundError("No such session");
  const groups = await prisma.file.groupBy({ by: ["state"], where: { sessionId: id }, _count: { _all: true }, _sum: { size: true } });
  const totals = { files: 0, bytes: 0n, pending: 0, uploaded: 0, expired: 0, failed: 0 };
  for (const g of groups) {
    totals.files += g._count._all;
    totals.bytes += g._sum.size ?? 0n;
    totals[g.state] = g._count._all;
  }
  return {
    id: session.id,
    name: session.name,
    state: session.state,
    keep: session.keep,
    deleting: session.deletingAt !== null,
    metadata: session.metadata,
    startedAt: session.startedAt.toISOString(),
    endedAt: session.endedAt?.toISOString() ?? null,
    device: {
      id: session.device.id,
      serial: session.device.serial,
      name: session.device.name,
      enabled: session.device.enabled,
      presence: toPresence(session.device),
    },
    totals: { ...totals, bytes: totals.bytes.toString() },
  };
}
