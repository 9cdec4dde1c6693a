import "server-only";
import { env } from "@/env";
import { db } from "@/server/db";
import { countHits, pruneHits } from "@/server/rate-limit/window-counters";

/** How long an address stays "known" for an account after its last good sign-in there. */
const KNOWN_ADDRESS_DAYS = 90;

type TBucket = { key: string; limit: number };

/**
 * The buckets one password check counts against (see docs/dashboard.md, "Sign-in limits"):
 *   - the account from this address: the strict limit (SIGN_IN_MAX_FAILURES);
 *   - this address, whatever the account: SIGN_IN_MAX_FAILURES_PER_IP;
 *   - the account from any address it never signed in from: SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
 *     which slows a guesser spread over many addresses but never holds the owner back at an
 *     address they signed in from before.
 */
function bucketsFor(email: string, address: string, known: boolean): TBucket[] {
  const buckets: TBucket[] = [
    { key: `account-address:${email}|${address}`, limit: env.SIGN_IN_MAX_FAILURES },
    { key: `address:${address}`, limit: env.SIGN_IN_MAX_FAILURES_PER_IP },
  ];
  if (!known) buckets.push({ key: `account:${email}`, limit: env.SIGN_IN_MAX_FAILURES_PER_ACCOUNT });
  return buckets;
}

export type TSignInAttempt = {
  /** False: a limit is reached and the password must not be checked. */
  allowed: boolean;
  /** Call after the password was right: the attempt was not a guess. */
  succeeded(): Promise<void>;
};

/**
 * Counts one attempt in each bucket before the password is looked at (countHits: atomic, so
 * however many attempts arrive at once only the first `limit` in a window go on to the password
 * check). Refused attempts count too, so hammering does not end the window early.
 */
export async function takeSignInAttempt(options: { email: string; ip: string | null; now: Date }): Promise<TSignInAttempt> {
  const prisma = db();
  const address = options.ip ?? "unknown";
  const windowStart = new Date(options.now.getTime() - env.SIGN_IN_WINDOW_MINUTES * 60_000);
  const knownSince = new Date(options.now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000);
  const known =
    options.ip !== null &&
    (await prisma.signInKnownAddress.count({ where: { email: options.email, ip: options.ip, lastSuccessAt: { gt: knownSince } } })) > 0;
  const buckets = bucketsFor(options.email, address, known);
  const keys = buckets.map((bucket) => bucket.key);
  const counts = await countHits({ keys, now: options.now, windowMs: env.SIGN_IN_WINDOW_MINUTES * 60_000 });
  const allowed = buckets.every((bucket) => (counts.get(bucket.key)?.count ?? 0) <= bucket.limit);
  if (Math.random() < 0.05) {
    // Keep the tables small: finished windows and long-unused addresses no longer matter.
    for (const prefix of ["account-address:", "address:", "account:"]) await pruneHits({ prefix, before: windowStart });
    await prisma.signInKnownAddress.deleteMany({ where: { lastSuccessAt: { lt: knownSince } } });
  }
  return {
    allowed,
    async succeeded() {
      const [accountAddress, ...shared] = [
        keys.find((key) => key.startsWith("account-address:"))!,
        ...keys.filter((key) => !key.startsWith("account-address:")),
      ];
      await prisma.$transaction([
        // The owner got in from here: earlier misses from this address are forgiven.
        prisma.signInThrottle.deleteMany({ where: { key: accountAddress } }),
        // A right password is not a guess: give back the attempt it took from the shared buckets.
        prisma.$executeRaw`UPDATE sign_in_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = ANY(${shared}::text[])`,
        ...(options.ip
          ? [
              prisma.signInKnownAddress.upsert({
                where: { email_ip: { email: options.email, ip: options.ip } },
                create: { email: options.email, ip: options.ip, lastSuccessAt: options.now },
                update: { lastSuccessAt: options.now },
              }),
            ]
          : []),
      ]);
    },
  };
}
