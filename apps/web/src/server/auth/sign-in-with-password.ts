import "server-only";
import { hashPassword, verifyPassword } from "@fleetdrop/db/passwords";
import { db } from "@/server/db";
import type { TSessionUser } from "./session-user";
import { takeSignInAttempt } from "./sign-in-throttle";

export type TSignInResult = { ok: true; user: TSessionUser } | { ok: false; reason: "invalid" | "rate_limited" };

let dummyHash: Promise<string> | undefined;

/**
 * Checks an e-mail and password. Unknown e-mail, wrong password and disabled account all
 * answer `invalid` after the same scrypt work, so the answer tells nothing about which.
 * Each attempt is counted first (sign-in-throttle.ts); past a limit the answer is
 * `rate_limited` and the password is not checked.
 */
export async function signInWithPassword(options: {
  email: string;
  password: string;
  ip: string | null;
  now?: Date;
}): Promise<TSignInResult> {
  const email = options.email.trim().toLowerCase();
  const now = options.now ?? new Date();
  const attempt = await takeSignInAttempt({ email, ip: options.ip, now });
  if (!attempt.allowed) return { ok: false, reason: "rate_limited" };

  const user = await db().user.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, isAdmin: true, disabled: true, passwordHash: true },
  });
  dummyHash ??= hashPassword("not a real password");
  const valid = await verifyPassword(options.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !user.passwordHash || !valid || user.disabled) return { ok: false, reason: "invalid" };
  await attempt.succeeded();
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin } };
}
