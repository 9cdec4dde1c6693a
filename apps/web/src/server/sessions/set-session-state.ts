import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { parseSessionId } from "./get-session";

/** Closes a session (devices can no longer upload to it) or opens it again. */
export async function setSessionState(options: {
  ctx: TProjectContext;
  sessionId: number | string;
  state: "open" | "closed";
}): Promise<void> {
  const { ctx, state } = options;
  requireRole(ctx, CAN.manageSessions);
  const id = parseSessionId(options.sessionId);
  const updated = await db().session.updateMany({
    where: { id, projectId: ctx.project.id },
    data: state === "closed" ? { state, endedAt: new Date() } : { state, endedAt: null },
  });
  if (updated.count === 0) throw new NotFoundError("No such session");
  await writeAudit(ctx, { action: state === "closed" ? "session.close" : "session.open", targetType: "session", targetId: id });
}
