import "server-only";
import type { Prisma } from "@fleetdrop/db";
import { auditDetailLines, readableAddress, recordedTargetName, retentionRuleName, type TDetailLine } from "@/lib/audit-display";
import { CAN } from "@/lib/roles";
import { AUDIT_PAGE_SIZE, type TAuditListQuery } from "@/lib/list-queries";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TAuditRow = {
  id: string;
  at: string;
  actorType: "user" | "device" | "system" | "token";
  actorLabel: string;
  action: string;
  /** What was acted on, by name: `session "Warehouse run" (#4)`, `file logs/a.log`, a user's email. */
  target: { type: string; label: string; gone: boolean } | null;
  details: TDetailLine[];
  /** The client address in words (`this machine (localhost)`, IPv4 unwrapped from IPv6). */
  address: string | null;
};

const TYPE_LABEL: Record<string, string> = {
  chunk_stream: "stream",
  store_object: "store file",
  api_token: "API token",
  retention_rule: "retention rule",
  webhook_delivery: "webhook delivery",
};

type TRaw = { action: string; targetType: string | null; targetId: string | null; details: Prisma.JsonValue };

/**
 * Names for the targets of a page of entries, looked up in one query per kind and scoped to
 * the project (a target elsewhere, or deleted since, keeps the name the entry's details give).
 */
async function targetNames(projectId: string, rows: TRaw[]): Promise<Map<string, string>> {
  const ids = (type: string) => [...new Set(rows.filter((r) => r.targetType === type && r.targetId).map((r) => r.targetId!))];
  const uuid = /^[0-9a-f-]{36}$/i;
  const sessionIds = ids("session").map(Number).filter(Number.isSafeInteger);
  const prisma = db();
  const projectScoped = (type: string) => ids(type).filter((id) => uuid.test(id));
  const [sessions, files, users, streams, projects, tokens, webhooks, rules] = await Promise.all([
    sessionIds.length ? prisma.session.findMany({ where: { id: { in: sessionIds }, projectId }, select: { id: true, name: true } }) : [],
    ids("file").filter((id) => uuid.test(id)).length
      ? prisma.file.findMany({
          where: { id: { in: ids("file").filter((id) => uuid.test(id)) }, session: { projectId } },
          select: { id: true, filename: true },
        })
      : [],
    ids("user").filter((id) => uuid.test(id)).length
      ? prisma.user.findMany({ where: { id: { in: ids("user").filter((id) => uuid.test(id)) } }, select: { id: true, email: true } })
      : [],
    ids("chunk_stream").filter((id) => uuid.test(id)).length
      ? prisma.chunkStream.findMany({
          where: { id: { in: ids("chunk_stream").filter((id) => uuid.test(id)) }, projectId },
          select: { id: true, name: true },
        })
      : [],
    ids("project").includes(projectId) ? prisma.project.findMany({ where: { id: projectId }, select: { id: true, name: true } }) : [],
    projectScoped("api_token").length
      ? prisma.apiToken.findMany({
          where: { id: { in: projectScoped("api_token") }, projectId },
          select: { id: true, name: true, prefix: true },
        })
      : [],
    projectScoped("webhook").length
      ? prisma.webhookEndpoint.findMany({ where: { id: { in: projectScoped("webhook") }, projectId }, select: { id: true, url: true } })
      : [],
    projectScoped("retention_rule").length
      ? prisma.retentionRule.findMany({
          where: { id: { in: projectScoped("retention_rule") }, projectId },
          select: { id: true, kind: true, value: true, store: true },
        })
      : [],
  ]);
  const names = new Map<string, string>();
  for (const s of sessions) names.set(`session:${s.id}`, `“${s.name}” (#${s.id})`);
  for (const f of files) names.set(`file:${f.id}`, f.filename);
  for (const u of users) names.set(`user:${u.id}`, u.email);
  for (const c of streams) names.set(`chunk_stream:${c.id}`, c.name);
  for (const p of projects) names.set(`project:${p.id}`, p.name);
  for (const t of tokens) names.set(`api_token:${t.id}`, `${t.name} (fd_${t.prefix})`);
  for (const w of webhooks) names.set(`webhook:${w.id}`, w.url);
  for (const r of rules) names.set(`retention_rule:${r.id}`, retentionRuleName(r));
  return names;
}

function target(row: TRaw, names: Map<string, string>): TAuditRow["target"] {
  if (!row.targetType) return null;
  const type = TYPE_LABEL[row.targetType] ?? row.targetType;
  if (!row.targetId) return { type, label: "", gone: false };
  const named = names.get(`${row.targetType}:${row.targetId}`);
  if (named) return { type, label: named, gone: false };
  // Devices and store files are recorded by their serial / store path already.
  if (row.targetType === "device" || row.targetType === "store_object" || row.targetType === "service")
    return { type, label: row.targetId, gone: false };
  // A delivery is a line of a webhook's log, named by its number.
  if (row.targetType === "webhook_delivery") return { type, label: `#${row.targetId}`, gone: false };
  return { type, label: recordedTargetName(row) ?? row.targetId, gone: true };
}

/** The project's audit log, newest first, filterable by action (prefix), actor and dates. */
export async function listAudit(options: {
  ctx: TProjectContext;
  query: TAuditListQuery;
}): Promise<{ rows: TAuditRow[]; total: number; page: number; pageSize: number; actions: string[] }> {
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
      select: {
        id: true,
        at: true,
        actorType: true,
        actorLabel: true,
        action: true,
        targetType: true,
        targetId: true,
        details: true,
        ip: true,
      },
    }),
    prisma.auditLog.count({ where }),
    prisma.auditLog.findMany({
      where: { projectId: ctx.project.id },
      distinct: ["action"],
      select: { action: true },
      orderBy: { action: "asc" },
      take: 100,
    }),
  ]);
  const names = await targetNames(ctx.project.id, rows);
  return {
    rows: rows.map((r) => ({
      id: r.id.toString(),
      at: r.at.toISOString(),
      actorType: r.actorType,
      actorLabel: r.actorLabel,
      action: r.action,
      target: target(r, names),
      details: auditDetailLines(r.action, r.details),
      address: readableAddress(r.ip),
    })),
    total,
    page: query.page,
    pageSize: AUDIT_PAGE_SIZE,
    actions: actions.map((a) => a.action),
  };
}
