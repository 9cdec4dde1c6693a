import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { parseSessionId } from "./get-session";

export async function renameSession(options: { ctx: TProjectContext; sessionId: number | string; name: string }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const id = parseSessionId(options.sessionId);
  const before = await db().session.findFirst({ where: { id, projectId: ctx.project.id }, select: { name: true } });
  if (!before) throw new NotFoundError("No such session");
  await db().session.update({ where: { id }, data: { name: options.name } });
  await writeAudit(ctx, {
    action: "session.rename",
    targetType: "session",
    targetId: id,
    details: { from: before.name, to: options.name },
  });
}
