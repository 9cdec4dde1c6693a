import "server-only";
import type { Prisma } from "@fleetdrop/db";
import { CAN } from "@/lib/roles";
import { AUDIT_PAGE_SIZE, type TAuditListQuery } from "@/lib/list-queries";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TAuditRow = {
  id: string;
  at: string;
  actorType: "user" | "device" | "system";
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: string | null;
  ip: string | null;
};

/** The project's audit log, newest first, filterable by action (prefix), actor and dates. */
export async function listAudit(options: { ctx: TProjectContext; query: TAuditListQuery }): Promise<{ rows: TAuditRow[]; total: number; page: number; pageSize: number; actions: string[] }> {
  const { ctx, query } = options;
  requireRole(ctx, CAN.readAudit);
  const where: Prisma.AuditLogWhereInput = { projectId: ctx.project.id };
  if (query.action) where.action = { startsWith: query.action };
  if (query.actor) where.actorLabel = { contains: query.actor, mode: "insensitive" };
  if (query.from || query.to) {
    where.at = {
      ...(query.from ? { gte: new Date(`${query.from}T00:00:00.000Z`) } : {}),
      ...(query.to ? { lt: new Date(new Date(`${query.to}T00:00:00.000Z`).getTime() + 86_400_000) } : {}),
    };
  }
  const prisma = db();
  const [rows, total, actions] = await Promise.all([
    prisma.auditLog.findMany({
      where,
      orderBy: [{ at: "desc" }, { id: "desc" }],
      skip: (query.page - 1) * AUDIT_PAGE_SIZE,
      take: AUDIT_PAGE_SIZE,
      select: { id: true, at: true, actorType: true, actorLabel: true, action: true, targetType: true, targetId: true, details: true, ip: true },
    }),
    prisma.auditLog.count({ where }),
    prisma.auditLog.findMany({ where: { projectId: ctx.project.id }, distinct: ["action"], select: { action: true }, orderBy: { action: "asc" }, take: 100 }),
  ]);
  return {
    rows: rows.map((r) => ({ ...r, id: r.id.toString(), at: r.at.toISOString(), details: r.details === null ? null : JSON.stringify(r.details) })),
    total,
    page: query.page,
    pageSize: AUDIT_PAGE_SIZE,
    actions: actions.map((a) => a.action),
  };
}
