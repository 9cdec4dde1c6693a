import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { deleteObjects } from "@/server/stores/delete-objects";
import { sessionsStore } from "@/server/stores/sessions-store";
import { parseSessionId } from "./get-session";

/** Deletes a session, its file records and the stored objects. */
export async function deleteSession(options: {
  ctx: TProjectContext;
  sessionId: number | string;
}): Promise<{ files: number; objectsLeft: number }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageSessions);
  const id = parseSessionId(options.sessionId);
  const prisma = db();
  const session = await prisma.session.findFirst({
    where: { id, projectId: ctx.project.id },
    select: { name: true, device: { select: { serial: true } } },
  });
  if (!session) throw new NotFoundError("No such session");
  const files = await prisma.file.findMany({ where: { sessionId: id }, select: { objectKey: true } });
  const total = await prisma.file.count({ where: { sessionId: id } });
  await prisma.session.delete({ where: { id } });
  const result = await deleteObjects(
    sessionsStore(),
    files.map((f) => f.objectKey),
  );
  await writeAudit(ctx, {
    action: "session.delete",
    targetType: "session",
    targetId: id,
    details: { name: session.name, device: session.device.serial, files: total, objectsNotDeleted: result.failed.length },
  });
  return { files: total, objectsLeft: result.failed.length };
}
