import "server-only";
import { generatePassword, hashPassword } from "@fleetdrop/db/passwords";
import { CAN, type TRole } from "@/lib/roles";
import { db } from "@/server/db";
import { UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";

/**
 * Adds a person to the project. An existing account is added as is. An e-mail without an
 * account gets one only when the inviter is a platform administrator (who creates users); its
 * first password is returned once to be handed over, and the person changes it after signing in.
 */
export async function inviteMember(options: {
  ctx: TProjectContext;
  email: string;
  role: TRole;
  name?: string;
}): Promise<{ created: boolean; password?: string }> {
  const { ctx, role } = options;
  requireRole(ctx, CAN.manageMembers);
  const prisma = db();
  const email = options.email.trim().toLowerCase();
  let user = await prisma.user.findUnique({ where: { email }, select: { id: true } });
  let password: string | undefined;
  if (!user) {
    if (!ctx.user?.isAdmin) {
      throw new UserInputError("No account uses this email yet. Ask a platform administrator to create it, then invite it.", "email");
    }
    password = generatePassword();
    user = await prisma.user.create({
      data: { email, name: options.name?.trim() || email.split("@")[0]!, passwordHash: await hashPassword(password) },
      select: { id: true },
    });
    await writeAudit(ctx, { action: "user.create", targetType: "user", targetId: user.id, details: { email } });
  }
  const existing = await prisma.membership.findUnique({
    where: { userId_projectId: { userId: user.id, projectId: ctx.project.id } },
    select: { role: true },
  });
  if (existing) throw new UserInputError(`This person is already a member (${existing.role})`, "email");
  await prisma.membership.create({ data: { userId: user.id, projectId: ctx.project.id, role } });
  await writeAudit(ctx, { action: "member.add", targetType: "user", targetId: user.id, details: { email, role } });
  return { created: Boolean(password), password };
}
