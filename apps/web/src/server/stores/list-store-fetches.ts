import "server-only";
import { parseAuditDetails } from "@fleetdrop/shared/audit";
import { jsonText } from "@/lib/format";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TStoreFetch = { id: string; at: string; device: string; store: string; path: string; size: number | null; etag: string | null };

/** Which devices fetched what, when: the worker's `store.download` audit rows of the project. */
export async function listStoreFetches(options: {
  ctx: TProjectContext;
  store?: string;
  device?: string | null;
  limit?: number;
}): Promise<TStoreFetch[]> {
  requireRole(options.ctx, CAN.manageDevices);
  const rows = await db().auditLog.findMany({
    where: {
      projectId: options.ctx.project.id,
      action: "store.download",
      ...(options.device ? { actorLabel: options.device } : {}),
      ...(options.store ? { targetId: { startsWith: `${options.store}:` } } : {}),
    },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: options.limit ?? 50,
    select: { id: true, at: true, actorLabel: true, details: true },
  });
  return rows.map((row) => {
    const fetched = parseAuditDetails("store.download", row.details);
    if (fetched) {
      const { store, path, size, etag } = fetched;
      return { id: row.id.toString(), at: row.at.toISOString(), device: row.actorLabel, store, path, size, etag };
    }
    // A row from an older version: whatever of the fields it has.
    const d = (row.details ?? {}) as Record<string, unknown>;
    return {
      id: row.id.toString(),
      at: row.at.toISOString(),
      device: row.actorLabel,
      store: jsonText(d.store),
      path: jsonText(d.path),
      size: typeof d.size === "number" ? d.size : null,
      etag: typeof d.etag === "string" ? d.etag : null,
    };
  });
}
