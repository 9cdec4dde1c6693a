/**
 * The SQL both lane outboxes share (chunk forwarding: lanes stream × device; webhooks: lanes
 * endpoint × device). Each outbox has a lanes table keyed by two columns, an items table that
 * carries the same two columns, and a target (stream, endpoint) whose `enabled` row the lane
 * delivers to. What differs — the lane's details, what a delivered item becomes, what an attempt
 * logs — is passed in as SQL of the outbox's own.
 *
 * What must stay true:
 * - a lane is leased by one worker at a time (FOR UPDATE SKIP LOCKED, lease_until), so its items
 *   go out one after the other in id order;
 * - a lane's items are read only while no transaction that writes to it is open (`nextInOrder`):
 *   an item's id is taken before its transaction commits, so a later item may commit first, and a
 *   reader that went by committed ids alone would send it before the earlier one.
 */
import type { Pool } from "@fleetdrop/db/pool";

export type TLaneTables = {
  /** Prepared statements are named `fleetdrop_<name>_…`. */
  name: string;
  lanes: string;
  /** The lanes' primary key; in every statement $1 and $2. The first one is the target's id. */
  keys: readonly [string, string];
  items: string;
  /** The items' state enum type. */
  itemState: string;
  target: string;
};

/** The two lane outboxes. */
export const LANE_OUTBOXES = {
  chunk: {
    name: "chunk",
    lanes: "chunk_lanes",
    keys: ["stream_id", "device_id"],
    items: "chunk_outbox",
    itemState: "chunk_state",
    target: "chunk_streams",
  },
  webhook: {
    name: "webhook",
    lanes: "webhook_lanes",
    keys: ["endpoint_id", "lane_key"],
    items: "webhook_deliveries",
    itemState: "webhook_delivery_state",
    target: "webhook_endpoints",
  },
} as const satisfies Record<string, TLaneTables>;

/** A lane's two key values, in the order of `keys`. */
export type TLaneKey = readonly [string, string];

export type TFailedAttempt = {
  itemId: string;
  error: string;
  status: number | null;
  /** The item stops blocking its lane (too many attempts, or refused for good). */
  park: boolean;
  /** Otherwise the lane waits until then (null: now). */
  retryAt: Date | null;
};

/** How long nextInOrder waits, in all, for a lane's open writers before it reports the lane empty for now. */
const BUSY_WAITS_MS = [5, 10, 20, 40, 80, 160];

export function createLaneOutboxDb(tables: TLaneTables) {
  const { lanes, items, target } = tables;
  const [first, second] = tables.keys;
  const ofLane = `${first} = $1 AND ${second} = $2`;
  return {
    /**
     * Leases up to `limit` due lanes that hold pending items, for `leaseMs`. `select` reads the
     * leased lanes (CTE `leased`: the two key columns) with what delivering them needs.
     */
    async lease<TRow extends Record<string, unknown>>(
      pool: Pool,
      input: { owner: string; leaseMs: number; limit: number },
      select: string,
    ): Promise<TRow[]> {
      const result = await pool.query<TRow>({
        name: `fleetdrop_${tables.name}_lease`,
        text: /* sql */ `
          WITH due AS (
            SELECT l.${first}, l.${second} FROM ${lanes} l
            JOIN ${target} t ON t.id = l.${first} AND t.enabled
            WHERE l.next_attempt_at <= now() AND (l.lease_until IS NULL OR l.lease_until < now())
              AND EXISTS (SELECT 1 FROM ${items} i WHERE i.${first} = l.${first} AND i.${second} = l.${second} AND i.state = 'pending')
            ORDER BY l.next_attempt_at
            LIMIT $3
            FOR UPDATE OF l SKIP LOCKED
          ),
          leased AS (
            UPDATE ${lanes} l SET lease_until = now() + make_interval(secs => $2::float8 / 1000), lease_owner = $1
            FROM due WHERE l.${first} = due.${first} AND l.${second} = due.${second}
            RETURNING l.${first}, l.${second}
          )
          ${select}`,
        values: [input.owner, input.leaseMs, input.limit],
      });
      return result.rows;
    },

    /**
     * The lane's next pending items in order, read by `fn` (an SQL function of the outbox that
     * answers one row with a null id while a writer of the lane is open). While one is open it
     * waits a little; if it stays open, it answers nothing and the lane is leased again later.
     */
    async nextInOrder<TRow extends { id: string | null }>(pool: Pool, fn: string, lane: TLaneKey, limit: number, columns: string) {
      for (let attempt = 0; ; attempt++) {
        const result = await pool.query<TRow>({
          name: `fleetdrop_${tables.name}_next`,
          text: `SELECT ${columns} FROM ${fn}($1, $2, $3)`,
          values: [lane[0], lane[1], limit],
        });
        const busy = result.rows.length === 1 && result.rows[0]!.id === null;
        if (!busy) return result.rows as (TRow & { id: string })[];
        const wait = BUSY_WAITS_MS[attempt];
        if (wait === undefined) return [];
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    },

    /**
     * Settles delivered items and counts them on their lane, whose error is cleared and whose
     * lease, if `owner` still holds it, is renewed. `settle` is SQL of CTEs, one of them `done`
     * (a row per settled item); its values are $5 on.
     */
    async delivered(
      pool: Pool,
      lane: TLaneKey,
      input: { owner: string; leaseMs: number },
      settle: { ctes: string; values: unknown[] },
    ): Promise<void> {
      await pool.query({
        name: `fleetdrop_${tables.name}_delivered`,
        text: /* sql */ `
          WITH ${settle.ctes}
          UPDATE ${lanes} SET delivered_count = delivered_count + (SELECT count(*) FROM done), last_delivered_at = now(),
                 last_attempt_at = now(), last_error = NULL,
                 lease_until = CASE WHEN lease_owner = $3 THEN now() + make_interval(secs => $4::float8 / 1000) ELSE lease_until END
          WHERE ${ofLane}`,
        values: [lane[0], lane[1], input.owner, input.leaseMs, ...settle.values],
      });
    },

    /**
     * Records a failed attempt: the item's attempts and error (parked if `park`), the lane's
     * error and when it is due again. `log`: SQL of a CTE that logs the attempt from CTE `item`
     * (the item's id), its values $8 on.
     */
    async failed(pool: Pool, lane: TLaneKey, attempt: TFailedAttempt, log?: { cte: string; values: unknown[] }): Promise<void> {
      await pool.query({
        name: `fleetdrop_${tables.name}_failed`,
        text: /* sql */ `
          WITH item AS (
            UPDATE ${items} SET attempts = attempts + 1, last_error = $4, last_status = $5,
                   state = CASE WHEN $6 THEN 'parked'::${tables.itemState} ELSE state END,
                   parked_at = CASE WHEN $6 THEN now() ELSE parked_at END
            WHERE id = $3 RETURNING id
          )${log ? `, ${log.cte}` : ""}
          UPDATE ${lanes} SET last_error = $4, last_attempt_at = now(), next_attempt_at = coalesce($7::timestamptz, now())
          WHERE ${ofLane}`,
        values: [
          lane[0],
          lane[1],
          attempt.itemId,
          attempt.error.slice(0, 1000),
          attempt.status,
          attempt.park,
          attempt.retryAt,
          ...(log?.values ?? []),
        ],
      });
    },

    /** Gives a lane back: its lease ends now, so any worker may take it when it is due. */
    async release(pool: Pool, lane: TLaneKey, owner: string): Promise<void> {
      await pool.query({
        name: `fleetdrop_${tables.name}_release`,
        text: `UPDATE ${lanes} SET lease_until = NULL, lease_owner = NULL WHERE ${ofLane} AND lease_owner = $3`,
        values: [lane[0], lane[1], owner],
      });
    },
  };
}
