import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export const PARKED_PAGE_SIZE = 100;

export type TParkedChunkRow = {
  id: string;
  stream: string;
  device: string;
  bytes: number;
  attempts: number;
  lastStatus: number | null;
  /** Why it was parked: the endpoint's answer or the network failure, as the worker saw it. */
  reason: string;
  receivedAt: string;
  parkedAt: string | null;
};

/** Chunks delivery gave up on, newest first (docs/protocol.md#chunks), with the reason; admins only. */
export async function listParkedChunks(options: {
  ctx: TProjectContext;
  stream?: string;
}): Promise<{ rows: TParkedChunkRow[]; total: number }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const where = { state: "parked" as const, stream: { projectId: ctx.project.id, ...(options.stream ? { name: options.stream } : {}) } };
  const prisma = db();
  const [rows, total] = await Promise.all([
    prisma.chunk.findMany({
      where,
      orderBy: [{ parkedAt: "desc" }, { id: "desc" }],
      take: PARKED_PAGE_SIZE,
      select: {
        id: true,
        attempts: true,
        lastStatus: true,
        lastError: true,
        receivedAt: true,
        parkedAt: true,
        stream: { select: { name: true } },
        device: { select: { serial: true } },
      },
    }),
    prisma.chunk.count({ where }),
  ]);
  // Sizes without loading payloads.
  const ids = rows.map((row) => row.id);
  const sizes = ids.length
    ? await prisma.$queryRaw<
        { id: bigint; bytes: number }[]
      >`SELECT id, octet_length(payload) AS bytes FROM chunk_outbox WHERE id = ANY(${ids}::int8[])`
    : [];
  const sizeOf = new Map(sizes.map((s) => [s.id.toString(), Number(s.bytes)]));
  return {
    rows: rows.map((row) => ({
      id: row.id.toString(),
      stream: row.stream.name,
      device: row.device.serial,
      bytes: sizeOf.get(row.id.toString()) ?? 0,
      attempts: row.attempts,
      lastStatus: row.lastStatus,
      reason: row.lastError ?? "(no reason recorded)",
      receivedAt: row.receivedAt.toISOString(),
      parkedAt: row.parkedAt?.toISOString() ?? null,
    })),
    total,
  };
}
