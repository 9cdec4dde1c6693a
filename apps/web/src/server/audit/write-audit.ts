import "server-only";
import type { Prisma } from "@fleetdrop/db";
import type { TAuditEvent } from "@fleetdrop/shared/audit";
import { db } from "@/server/db";
import type { TProjectContext, TTokenProjectContext, TUserProjectContext } from "@/server/auth/project-context";
import type { TSessionUser } from "@/server/auth/session-user";

/**
 * What happened (a dotted verb: `file.download`, `device.create`, …) with the details its
 * schema in @fleetdrop/shared/audit asks for, and what it happened to.
 */
export type TAuditEntry = TAuditEvent & {
  targetType?: string;
  targetId?: string | number;
};

/** The details as Prisma stores them: none is SQL NULL. */
function detailsJson(entry: TAuditEntry): Prisma.InputJsonValue | undefined {
  return entry.details === undefined || entry.details === null ? undefined : (entry.details as Prisma.InputJsonValue);
}

type TActor = Pick<TUserProjectContext, "user" | "token"> | Pick<TTokenProjectContext, "user" | "token">;
type TActingContext = TActor & Pick<TProjectContext, "project" | "ip">;

/** How the log names who acted: a person's e-mail, or `API token <name> (fd_<prefix>)`. */
export function actorLabel(ctx: TActor): string {
  return ctx.user ? ctx.user.email : `API token ${ctx.token.name} (fd_${ctx.token.prefix})`;
}

function actorOf(ctx: TActor) {
  return ctx.user
    ? { actorType: "user" as const, userId: ctx.user.id, actorLabel: ctx.user.email }
    : { actorType: "token" as const, userId: null, actorLabel: actorLabel(ctx) };
}

/** Records what a person (dashboard) or an API token did in a project. */
export async function writeAudit(ctx: TActingContext, entry: TAuditEntry): Promise<void> {
  await db().auditLog.create({
    data: {
      projectId: ctx.project.id,
      ...actorOf(ctx),
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId === undefined ? undefined : String(entry.targetId),
      details: detailsJson(entry),
      ip: ctx.ip ?? undefined,
    },
  });
}

/**
 * Records a repeated read (a preview shown again, a video seeking) once per person, target and
 * `withinMinutes`: the log keeps who read what and when without a row per thumbnail load.
 */
export async function writeAuditOnce(ctx: TActingContext, entry: TAuditEntry, options: { withinMinutes: number }): Promise<void> {
  const since = new Date(Date.now() - options.withinMinutes * 60_000);
  const recent = await db().auditLog.findFirst({
    where: {
      projectId: ctx.project.id,
      ...(ctx.user ? { userId: ctx.user.id } : { actorType: "token", actorLabel: actorLabel(ctx) }),
      action: entry.action,
      targetId: entry.targetId === undefined ? null : String(entry.targetId),
      at: { gt: since },
    },
    select: { id: true },
  });
  if (!recent) await writeAudit(ctx, entry);
}

/** Records what a user did outside any project (accounts, platform administration). */
export async function writeUserAudit(user: TSessionUser, ip: string | null, entry: TAuditEntry): Promise<void> {
  await db().auditLog.create({
    data: {
      actorType: "user",
      userId: user.id,
      actorLabel: user.email,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId === undefined ? undefined : String(entry.targetId),
      details: detailsJson(entry),
      ip: ip ?? undefined,
    },
  });
}
