import "server-only";
import { db } from "@/server/db";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import type { TSessionUser } from "@/server/auth/session-user";
import { writeUserAudit } from "@/server/audit/write-audit";

/** A disabled account cannot sign in, and its open sign-ins stop working at their next request. */
export async function setUserDisabled(options: {
  user: TSessionUser;
  ip: string | null;
  userId: string;
  disabled: boolean;
}): Promise<void> {
  if (!options.user.isAdmin) throw new ForbiddenError("Only platform administrators manage users");
  if (options.userId === options.user.id) throw new UserInputError("You cannot disable your own account");
  const updated = await db().user.updateMany({ where: { id: options.userId }, data: { disabled: options.disabled } });
  if (updated.count === 0) throw new NotFoundError("No such user");
  await writeUserAudit(options.user, options.ip, {
    action: options.disabled ? "user.disable" : "user.enable",
    targetType: "user",
    targetId: options.userId,
  });
}
