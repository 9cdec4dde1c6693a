import "server-only";
import { CAN, type TRole } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";

/** Changes a member's role; a project always keeps at least one owner. */
export async function changeMemberRole(options: { ctx: TProjectContext; userId: string; role: TRole }): Promise<void> {
  const { ctx, role } = options;
  requireRole(ctx, CAN.manageMembers);
  const prisma = db();
  const key = { userId_projectId: { userId: options.userId, projectId: ctx.project.id } };
  const member = await prisma.membership.findUnique({ where: key, select: { role: true, user: { select: { email: true } } } });
  if (!member) throw new NotFoundError("No such member");
  if (member.role === "owner" && role !== "owner") {
    const owners = await prisma.membership.count({ where: { projectId: ctx.project.id, role: "owner" } });
    if (owners <= 1) throw new UserInputError("A project needs at least one owner: make someone else owner first");
  }
  await prisma.membership.update({ where: key, data: { role } });
  await writeAudit(ctx, {
    action: "member.role",
    targetType: "user",
    targetId: options.userId,
    details: { email: member.user.email, from: member.role, to: role },
  });
}
