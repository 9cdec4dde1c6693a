import "server-only";
import type { Prisma } from "@fleetdrop/db";
import { db } from "@/server/db";
import type { TProjectContext } from "@/server/auth/project-context";
import type { TSessionUser } from "@/server/auth/session-user";

export type TAuditEntry = {
  /** Dotted verb: `file.download`, `device.create`, `session.close`, ... */
  action: string;
  targetType?: string;
  targetId?: string | number;
  details?: Prisma.InputJsonValue;
};

/** Records what a user did in a project. */
export async function writeAudit(ctx: Pick<TProjectContext, "user" | "project" | "ip">, entry: TAuditEntry): Promise<void> {
  await db().auditLog.create({
    data: {
      projectId: ctx.project.id,
      actorType: "user",
      userId: ctx.user.id,
      actorLabel: ctx.user.email,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId === undefined ? undefined : String(entry.targetId),
      details: entry.details,
      ip: ctx.ip ?? undefined,
    },
  });
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
      details: entry.details,
      ip: ip ?? undefined,
    },
  });
}
