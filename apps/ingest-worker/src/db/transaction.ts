/**
 * The worker's one way to run statements in a transaction: `withTransaction(pool, async (client) => …)`
 * commits when the callback resolves, rolls back when it throws (and rethrows), and always gives
 * the client back to the pool.
 *
 * What must stay true:
 * - a client whose ROLLBACK failed is destroyed, never released: its connection may still be
 *   inside the transaction, and the next user of the pool would run in it;
 * - a callback that leaves the connection unusable (a COPY stopped half way) calls `discard()`:
 *   the connection is closed without COMMIT or ROLLBACK (both would wait behind the COPY), which
 *   ends the transaction without committing it; if the callback resolved, its value is returned.
 */
import type { Pool, PoolClient } from "@fleetdrop/db/pool";

export type TTransaction = {
  /** Closes the connection instead of committing or rolling back (it is unusable). */
  discard(): void;
};

export type TTransactionOptions = {
  /** The statement that opens the transaction, e.g. "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY". */
  begin?: string;
};

export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient, tx: TTransaction) => Promise<T>,
  options: TTransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let discarded = false;
  let destroy = false;
  try {
    await client.query(options.begin ?? "BEGIN");
    const result = await work(client, { discard: () => (discarded = true) });
    if (!discarded) await client.query("COMMIT");
    return result;
  } catch (error) {
    if (!discarded) {
      try {
        await client.query("ROLLBACK");
      } catch {
        destroy = true;
      }
    }
    throw error;
  } finally {
    client.release(discarded || destroy);
  }
}
