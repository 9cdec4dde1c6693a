import "server-only";
import { generatePassword, hashPassword } from "@fleetdrop/db/passwords";
import { db } from "@/server/db";
import { ForbiddenError, UserInputError } from "@/server/errors";
import type { TSessionUser } from "@/server/auth/session-user";
import { writeUserAudit } from "@/server/audit/write-audit";

/** Creates an account with a generated first password, returned once to hand over. */
export async function createUser(options: {
  user: TSessionUser;
  ip: string | null;
  email: string;
  name: string;
  isAdmin: boolean;
}): Promise<{ id: string; password: string }> {
  if (!options.user.isAdmin) throw new ForbiddenError("Only platform administrators create users");
  const email = options.email.trim().toLowerCase();
  const exists = await db().user.findUnique({ where: { email }, select: { id: true } });
  if (exists) throw new UserInputError("An account with this email exists already", "email");
  const password = generatePassword();
  const created = await db().user.create({
    data: { email, name: options.name, isAdmin: options.isAdmin, passwordHash: await hashPassword(password) },
    select: { id: true },
  });
  await writeUserAudit(options.user, options.ip, {
    action: "user.create",
    targetType: "user",
    targetId: created.id,
    details: { email, isAdmin: options.isAdmin },
  });
  return { id: created.id, password };
}
