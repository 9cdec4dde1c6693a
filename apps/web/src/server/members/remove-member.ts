import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";

export async function removeMember(options: { ctx: TProjectContext; userId: string }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageMembers);
  const prisma = db();
  const key = { userId_projectId: { userId: options.userId, projectId: ctx.project.id } };
  const member = await prisma.membership.findUnique({ where: key, select: { role: true, user: { select: { email: true } } } });
  if (!member) throw new NotFoundError("No such member");
  if (member.role === "owner") {
    const owners = await prisma.membership.count({ where: { projectId: ctx.project.id, role: "owner" } });
    if (owners <= 1) throw new UserInputError("A project needs at least one owner: make someone else owner first");
  }
  await prisma.membership.delete({ where: key });
  await writeAudit(ctx, {
    action: "member.remove",
    targetType: "user",
    targetId: options.userId,
    details: { email: member.user.email, role: member.role },
  });
}
