import "server-only";
import { hashPassword, verifyPassword } from "@fleetdrop/db/passwords";
import { env } from "@/env";
import { db } from "@/server/db";
import type { TSessionUser } from "./session-user";

export type TSignInResult =
  | { ok: true; user: TSessionUser }
  | { ok: false; reason: "invalid" | "rate_limited" };

let dummyHash: Promise<string> | undefined;

/**
 * Checks an e-mail and password. Unknown e-mail, wrong password and disabled account all
 * answer `invalid` after the same scrypt work, so the answer tells nothing about which.
 * Failures are recorded; past the limit per e-mail or per address, sign-in is refused
 * without checking the password until the window has passed.
 */
export async function signInWithPassword(options: { email: string; password: string; ip: string | null; now?: Date }): Promise<TSignInResult> {
  const email = options.email.trim().toLowerCase();
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - env.SIGN_IN_WINDOW_MINUTES * 60_000);
  const prisma = db();

  const [byEmail, byIp] = await Promise.all([
    prisma.signInFailure.count({ where: { email, at: { gt: since } } }),
    options.ip ? prisma.signInFailure.count({ where: { ip: options.ip, at: { gt: since } } }) : Promise.resolve(0),
  ]);
  if (byEmail >= env.SIGN_IN_MAX_FAILURES || byIp >= env.SIGN_IN_MAX_FAILURES_PER_IP) {
    return { ok: false, reason: "rate_limited" };
  }

  const user = await prisma.user.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, isAdmin: true, disabled: true, passwordHash: true },
  });
  dummyHash ??= hashPassword("not a real password");
  const valid = await verifyPassword(options.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !user.passwordHash || !valid || user.disabled) {
    await prisma.signInFailure.create({ data: { email, ip: options.ip, at: now } });
    // Keep the table small: old failures no longer count.
    if (Math.random() < 0.05) await prisma.signInFailure.deleteMany({ where: { at: { lt: since } } });
    return { ok: false, reason: "invalid" };
  }
  await prisma.signInFailure.deleteMany({ where: { email } });
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin } };
}
