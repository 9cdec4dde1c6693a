import "server-only";
import { Prisma } from "@fleetdrop/db";
import { db } from "@/server/db";

export type TWindowCount = { count: number; windowStart: Date };

/**
 * Counts one hit in each of `keys` (fixed windows of `windowMs`, rows of `sign_in_throttle`)
 * with one atomic UPSERT (`attempts + 1 ... RETURNING`): however many hits arrive at once, each
 * sees its own count. A bucket whose window has passed starts again at 1. Keys are taken in
 * one order so two callers sharing keys never wait on each other in a cycle.
 */
export async function countHits(options: { keys: string[]; now: Date; windowMs: number }): Promise<Map<string, TWindowCount>> {
  const keys = [...options.keys].sort();
  const expired = new Date(options.now.getTime() - options.windowMs);
  const rows = await db().$queryRaw<{ key: string; attempts: number; window_start: Date }[]>(Prisma.sql`
    INSERT INTO sign_in_throttle AS t (key, window_start, attempts)
    SELECT key, ${options.now}::timestamptz, 1 FROM unnest(${keys}::text[]) AS key
    ON CONFLICT (key) DO UPDATE SET
      attempts = CASE WHEN t.window_start <= ${expired}::timestamptz THEN 1 ELSE t.attempts + 1 END,
      window_start = CASE WHEN t.window_start <= ${expired}::timestamptz THEN EXCLUDED.window_start ELSE t.window_start END
    RETURNING key, attempts, window_start`);
  return new Map(rows.map((row) => [row.key, { count: Number(row.attempts), windowStart: row.window_start }]));
}

/** Drops counters whose window began before `before` and whose key starts with `prefix`. */
export async function pruneHits(options: { prefix: string; before: Date }): Promise<void> {
  await db().signInThrottle.deleteMany({ where: { key: { startsWith: options.prefix }, windowStart: { lt: options.before } } });
}
