import "server-only";
import { CAN } from "@/lib/roles";
import { writeAudit } from "@/server/audit/write-audit";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { parseSessionId } from "./get-session";

/** Marks a session *keep* (no retention rule deletes it, docs/retention.md) or unmarks it. */
export async function setSessionKeep(options: { ctx: TProjectContext; sessionId: number | string; keep: boolean }): Promise<void> {
  const { ctx, keep } = options;
  requireRole(ctx, CAN.manageSessions);
  const id = parseSessionId(options.sessionId);
  const session = await db().session.findFirst({ where: { id, projectId: ctx.project.id }, select: { deletingAt: true } });
  if (!session) throw new NotFoundError("No such session");
  // A session a retention run has started deleting may have lost objects already: it is finished.
  if (session.deletingAt && keep) throw new UserInputError("This session is being deleted by a retention rule and cannot be kept");
  await db().session.updateMany({ where: { id, projectId: ctx.project.id, deletingAt: keep ? null : undefined }, data: { keep } });
  await writeAudit(ctx, { action: keep ? "session.keep" : "session.unkeep", targetType: "session", targetId: id });
}
