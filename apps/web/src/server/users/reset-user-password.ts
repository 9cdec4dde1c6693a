import "server-only";
import { generatePassword, hashPassword } from "@fleetdrop/db/passwords";
import { db } from "@/server/db";
import { ForbiddenError, NotFoundError } from "@/server/errors";
import type { TSessionUser } from "@/server/auth/session-user";
import { writeUserAudit } from "@/server/audit/write-audit";

/** Sets a new generated password (shown once) and ends the account's open sign-ins. */
export async function resetUserPassword(options: { user: TSessionUser; ip: string | null; userId: string }): Promise<{ password: string }> {
  if (!options.user.isAdmin) throw new ForbiddenError("Only platform administrators manage users");
  const password = generatePassword();
  const updated = await db().user.updateMany({
    where: { id: options.userId },
    data: { passwordHash: await hashPassword(password), passwordChangedAt: new Date() },
  });
  if (updated.count === 0) throw new NotFoundError("No such user");
  await writeUserAudit(options.user, options.ip, { action: "user.password_reset", targetType: "user", targetId: options.userId });
  return { password };
}
