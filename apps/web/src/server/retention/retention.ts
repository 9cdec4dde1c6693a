import "server-only";
import { retentionPreviewQuery } from "@fleetdrop/db/retention";
import { CAN } from "@/lib/roles";
import { ZRetentionRuleFormSchema, type TRetentionKind, type TRetentionRuleForm } from "@/lib/retention-forms";
import { writeAudit } from "@/server/audit/write-audit";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";

/** The preview lists at most this many sessions (and says how many there are in all). */
export const PREVIEW_LIMIT = 200;

export type TRetentionPreview = {
  total: number;
  files: number;
  bytes: string;
  sessions: { id: number; name: string; device: string; startedAt: string; endedAt: string | null; files: number; bytes: string }[];
};

export type TRetentionRuleRow = {
  id: string;
  kind: TRetentionKind;
  value: number;
  paused: boolean;
  lastRunAt: string | null;
  lastError: string | null;
  deletedSessions: string;
  deletedFiles: string;
  deletedBytes: string;
};

/** What `rule` would delete now: the same query the worker's run uses (@fleetdrop/db/retention). */
export async function previewRetention(options: { ctx: TProjectContext; rule: TRetentionRuleForm }): Promise<TRetentionPreview> {
  requireRole(options.ctx, CAN.manageSessions);
  const rule = ZRetentionRuleFormSchema.parse(options.rule);
  const query = retentionPreviewQuery(options.ctx.project.id, rule, 1_000_000);
  const rows = await db().$queryRawUnsafe<
    { id: number; name: string; device: string; started_at: Date; ended_at: Date | null; files: number; bytes: bigint }[]
  >(query.text, ...query.values);
  return {
    total: rows.length,
    files: rows.reduce((sum, row) => sum + row.files, 0),
    bytes: rows.reduce((sum, row) => sum + row.bytes, 0n).toString(),
    sessions: rows.slice(0, PREVIEW_LIMIT).map((row) => ({
      id: row.id,
      name: row.name,
      device: row.device,
      startedAt: row.started_at.toISOString(),
      endedAt: row.ended_at?.toISOString() ?? null,
      files: row.files,
      bytes: row.bytes.toString(),
    })),
  };
}

export async function listRetentionRules(options: { ctx: TProjectContext }): Promise<{ rules: TRetentionRuleRow[]; deleting: number }> {
  requireRole(options.ctx, CAN.manageSessions);
  const [rules, deleting] = await Promise.all([
    db().retentionRule.findMany({ where: { projectId: options.ctx.project.id }, orderBy: { createdAt: "asc" } }),
    db().session.count({ where: { projectId: options.ctx.project.id, deletingAt: { not: null } } }),
  ]);
  return {
    deleting,
    rules: rules.map((rule) => ({
      id: rule.id,
      kind: rule.kind,
      value: rule.value,
      paused: rule.paused,
      lastRunAt: rule.lastRunAt?.toISOString() ?? null,
      lastError: rule.lastError,
      deletedSessions: rule.deletedSessions.toString(),
      deletedFiles: rule.deletedFiles.toString(),
      deletedBytes: rule.deletedBytes.toString(),
    })),
  };
}

/** Saves the project's rule of this kind (one per kind); the worker applies it on its next run. */
export async function saveRetentionRule(options: { ctx: TProjectContext; rule: TRetentionRuleForm }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const rule = ZRetentionRuleFormSchema.parse(options.rule);
  const saved = await db().retentionRule.upsert({
    where: { projectId_kind: { projectId: ctx.project.id, kind: rule.kind } },
    create: { projectId: ctx.project.id, kind: rule.kind, value: rule.value },
    update: { value: rule.value },
    select: { id: true },
  });
  await writeAudit(ctx, { action: "retention.save", targetType: "retention_rule", targetId: saved.id, details: rule });
}

async function ruleOf(ctx: TProjectContext, ruleId: string) {
  const rule = await db().retentionRule.findFirst({
    where: { id: ruleId, projectId: ctx.project.id },
    select: { id: true, kind: true, value: true },
  });
  if (!rule) throw new NotFoundError("No such rule");
  return rule;
}

export async function setRetentionPaused(options: { ctx: TProjectContext; ruleId: string; paused: boolean }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const rule = await ruleOf(ctx, options.ruleId);
  await db().retentionRule.update({ where: { id: rule.id }, data: { paused: options.paused } });
  await writeAudit(ctx, {
    action: options.paused ? "retention.pause" : "retention.resume",
    targetType: "retention_rule",
    targetId: rule.id,
  });
}

export async function deleteRetentionRule(options: { ctx: TProjectContext; ruleId: string }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const rule = await ruleOf(ctx, options.ruleId);
  await db().retentionRule.delete({ where: { id: rule.id } });
  await writeAudit(ctx, {
    action: "retention.delete_rule",
    targetType: "retention_rule",
    targetId: rule.id,
    details: { kind: rule.kind, value: rule.value },
  });
}
