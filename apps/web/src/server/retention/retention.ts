import "server-only";
import { retentionPreviewQuery } from "@fleetdrop/db/retention";
import { storeRetentionCandidates } from "@fleetdrop/shared/retention/store-objects";
import { CAN } from "@/lib/roles";
import { ZRetentionRuleFormSchema, type TRetentionKind, type TRetentionRuleForm } from "@/lib/retention-forms";
import { writeAudit } from "@/server/audit/write-audit";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { namedStores } from "@/server/stores/named-stores";

/** The preview lists at most this many sessions (and says how many there are in all). */
export const PREVIEW_LIMIT = 200;

export type TRetentionPreview =
  | {
      target: "sessions";
      total: number;
      files: number;
      bytes: string;
      sessions: { id: number; name: string; device: string; startedAt: string; endedAt: string | null; files: number; bytes: string }[];
    }
  | {
      target: "store";
      store: string;
      total: number;
      bytes: string;
      objects: { device: string; path: string; size: number; lastModified: string }[];
    };

export type TRetentionRuleRow = {
  id: string;
  kind: TRetentionKind;
  value: number;
  /** "" for a rule on sessions. */
  store: string;
  paused: boolean;
  lastRunAt: string | null;
  lastError: string | null;
  deletedSessions: string;
  deletedFiles: string;
  deletedBytes: string;
};

/** The per-device named stores a rule can apply to (shared stores belong to no project). */
export function retentionStores(): string[] {
  return [...namedStores().values()].filter((entry) => entry.perDevice).map((entry) => entry.name);
}

function perDeviceStore(name: string) {
  const entry = namedStores().get(name);
  if (!entry?.perDevice) throw new UserInputError("Choose one of the per-device stores", "store");
  return entry;
}

/**
 * What `rule` would delete now, listed by the same code the worker's run uses: the sessions
 * query (@fleetdrop/db/retention), or a store's objects (@fleetdrop/shared/retention/store-objects).
 */
export async function previewRetention(options: { ctx: TProjectContext; rule: TRetentionRuleForm }): Promise<TRetentionPreview> {
  requireRole(options.ctx, CAN.manageSessions);
  const rule = ZRetentionRuleFormSchema.parse(options.rule);
  if (rule.store !== "") {
    const entry = perDeviceStore(rule.store);
    const devices = await db().device.findMany({ where: { projectId: options.ctx.project.id }, select: { serial: true } });
    const objects = await storeRetentionCandidates({
      store: entry.store,
      devices: devices.map((device) => device.serial),
      days: rule.value,
      now: new Date(),
      limit: 1_000_000,
    });
    return {
      target: "store",
      store: entry.name,
      total: objects.length,
      bytes: String(objects.reduce((sum, object) => sum + object.size, 0)),
      objects: objects.slice(0, PREVIEW_LIMIT).map((object) => ({
        device: object.device,
        path: object.key.slice(object.device.length + 1),
        size: object.size,
        lastModified: object.lastModified.toISOString(),
      })),
    };
  }
  const query = retentionPreviewQuery(options.ctx.project.id, rule, 1_000_000);
  const rows = await db().$queryRawUnsafe<
    { id: number; name: string; device: string; started_at: Date; ended_at: Date | null; files: number; bytes: bigint }[]
  >(query.text, ...query.values);
  return {
    target: "sessions",
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
      store: rule.store,
      paused: rule.paused,
      lastRunAt: rule.lastRunAt?.toISOString() ?? null,
      lastError: rule.lastError,
      deletedSessions: rule.deletedSessions.toString(),
      deletedFiles: rule.deletedFiles.toString(),
      deletedBytes: rule.deletedBytes.toString(),
    })),
  };
}

/** Saves the project's rule of this kind for its target (one per kind and store); the worker applies it on its next run. */
export async function saveRetentionRule(options: { ctx: TProjectContext; rule: TRetentionRuleForm }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const rule = ZRetentionRuleFormSchema.parse(options.rule);
  if (rule.store !== "") perDeviceStore(rule.store);
  const saved = await db().retentionRule.upsert({
    where: { projectId_kind_store: { projectId: ctx.project.id, kind: rule.kind, store: rule.store } },
    create: { projectId: ctx.project.id, kind: rule.kind, value: rule.value, store: rule.store },
    update: { value: rule.value },
    select: { id: true },
  });
  await writeAudit(ctx, {
    action: "retention.save",
    targetType: "retention_rule",
    targetId: saved.id,
    details: { kind: rule.kind, value: rule.value, ...(rule.store ? { store: rule.store } : {}) },
  });
}

async function ruleOf(ctx: TProjectContext, ruleId: string) {
  const rule = await db().retentionRule.findFirst({
    where: { id: ruleId, projectId: ctx.project.id },
    select: { id: true, kind: true, value: true, store: true },
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
    details: { kind: rule.kind, value: rule.value, ...(rule.store ? { store: rule.store } : {}) },
  });
}
