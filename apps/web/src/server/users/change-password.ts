import "server-only";
import { hashPassword, verifyPassword } from "@fleetdrop/db/passwords";
import { db } from "@/server/db";
import { UserInputError } from "@/server/errors";
import type { TSessionUser } from "@/server/auth/session-user";
import { writeUserAudit } from "@/server/audit/write-audit";

/**
 * Changes the signed-in user's own password after checking the current one. Other sign-ins
 * of the account end (their token predates `passwordChangedAt`); the caller signs this browser
 * in again.
 */
export async function changePassword(options: {
  user: TSessionUser;
  ip: string | null;
  currentPassword: string;
  newPassword: string;
}): Promise<void> {
  const prisma = db();
  const row = await prisma.user.findUnique({ where: { id: options.user.id }, select: { passwordHash: true } });
  if (!(await verifyPassword(options.currentPassword, row?.passwordHash))) {
    throw new UserInputError("The current password is not right", "currentPassword");
  }
  await prisma.user.update({
    where: { id: options.user.id },
    data: { passwordHash: await hashPassword(options.newPassword), passwordChangedAt: new Date() },
  });
  await writeUserAudit(options.user, options.ip, { action: "user.password_change", targetType: "user", targetId: options.user.id });
}
