/**
 * SQL of the chunk outbox (docs/protocol.md#chunks) (tables chunk_outbox, chunk_lanes, chunk_streams).
 *
 * - `enqueueChunks`: a batch of received chunks in ONE statement (one commit): each is checked
 *   (device known and enabled, its project has an enabled stream of that name), stored in
 *   arrival order, and its lane (stream, device) is created if new.
 * - Lanes are delivered one chunk after the other; a worker leases a lane (FOR UPDATE SKIP
 *   LOCKED, lease_until) so several workers share the work without reordering a lane.
 */
import { runTyped, typedSql, type TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { withTransaction } from "../db/transaction";

export type TChunkWrite = { serial: string; stream: string; data: Buffer; contentType: string | null };

export type TChunkOutcome = { ok: true; chunkId: string } | { ok: false; code: "device_unknown" | "device_disabled" | "stream_not_found" };

/**
 * Stores a batch of chunks in one transaction (one commit). Ids are assigned in arrival order;
 * the answer's chunk_id is read back by position among the accepted ones.
 */
export async function enqueueChunks(pool: Pool, items: TChunkWrite[]): Promise<TChunkOutcome[]> {
  const positions: number[] = [];
  let position = 0;
  for (const item of items) {
    positions.push(position);
    position += item.data.length;
  }
  const blob =
    items.length === 1
      ? items[0]!.data
      : Buffer.concat(
          items.map((item) => item.data),
          position,
        );
  return withTransaction(pool, async (client) => {
    const checked = await client.query<{ device_found: boolean; enabled: boolean; stream_ok: boolean }>({
      name: "fleetdrop_chunk_check",
      text: /* sql */ `
        SELECT d.id IS NOT NULL AS device_found, coalesce(d.enabled, false) AS enabled, coalesce(s.enabled, false) AS stream_ok
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(serial, stream, ord)
        LEFT JOIN devices d ON d.serial = r.serial
        LEFT JOIN chunk_streams s ON s.project_id = d.project_id AND s.name = r.stream
        ORDER BY r.ord`,
      values: [items.map((item) => item.serial), items.map((item) => item.stream)],
    });
    const accepted = checked.rows.map((row) => row.device_found && row.enabled && row.stream_ok);
    const take = items.map((_, index) => index).filter((index) => accepted[index]);
    let ids: string[] = [];
    if (take.length > 0) {
      const inserted = await client.query<TRowOf<"chunk_outbox", "id">>({
        name: "fleetdrop_chunk_enqueue",
        text: /* sql */ `
          WITH req AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int4[], $5::text[])
              WITH ORDINALITY AS r(serial, stream, pos, len, content_type, ord)
          ),
          ctx AS (
            SELECT r.*, d.id AS device_uuid, s.id AS stream_id
            FROM req r JOIN devices d ON d.serial = r.serial JOIN chunk_streams s ON s.project_id = d.project_id AND s.name = r.stream
          ),
          lanes AS (
            INSERT INTO chunk_lanes (stream_id, device_id)
            SELECT DISTINCT stream_id, device_uuid FROM ctx ORDER BY 1, 2
            ON CONFLICT (stream_id, device_id) DO NOTHING
          )
          -- nextval() in the outer query, over a subquery sorted by arrival (OFFSET 0 keeps it a
          -- subquery): a column default would be evaluated before the sort, out of order.
          INSERT INTO chunk_outbox (id, stream_id, device_id, payload, content_type)
          SELECT nextval(pg_get_serial_sequence('chunk_outbox', 'id')), stream_id, device_uuid, payload, content_type
          FROM (SELECT stream_id, device_uuid, substring($6::bytea FROM pos + 1 FOR len) AS payload, content_type
                  FROM ctx ORDER BY ord OFFSET 0) sorted
          RETURNING id::text`,
        values: [
          take.map((index) => items[index]!.serial),
          take.map((index) => items[index]!.stream),
          take.map((index) => positions[index]!),
          take.map((index) => items[index]!.data.length),
          take.map((index) => items[index]!.contentType),
          blob,
        ],
      });
      // bigserial values come in insertion order: sort to pair them with the accepted items.
      ids = inserted.rows.map((row) => row.id).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    }
    let next = 0;
    return checked.rows.map((row): TChunkOutcome => {
      if (!row.device_found) return { ok: false, code: "device_unknown" };
      if (!row.enabled) return { ok: false, code: "device_disabled" };
      if (!row.stream_ok) return { ok: false, code: "stream_not_found" };
      return { ok: true, chunkId: ids[next++]! };
    });
  });
}

export type TLane = {
  streamId: string;
  deviceId: string;
  serial: string;
  stream: string;
  urlTemplate: string;
  headers: Record<string, string>;
  maxAttempts: number;
  timeoutMs: number;
};

/** Leases up to `limit` lanes that have pending chunks and are due. */
export async function leaseLanes(pool: Pool, owner: string, leaseMs: number, limit: number): Promise<TLane[]> {
  const result = await pool.query<
    TRowOf<"chunk_lanes", "stream_id" | "device_id"> &
      TRowOf<"devices", "serial"> &
      TRowOf<"chunk_streams", "name" | "url_template" | "max_attempts" | "timeout_ms"> & {
        /** JSON in the table; the dashboard stores only a name → value object (manage-chunk-streams). */
        headers: Record<string, string> | null;
      }
  >({
    name: "fleetdrop_chunk_lease",
    text: /* sql */ `
      WITH due AS (
        SELECT l.stream_id, l.device_id FROM chunk_lanes l
        JOIN chunk_streams st ON st.id = l.stream_id AND st.enabled
        WHERE l.next_attempt_at <= now() AND (l.lease_until IS NULL OR l.lease_until < now())
          AND EXISTS (SELECT 1 FROM chunk_outbox c WHERE c.stream_id = l.stream_id AND c.device_id = l.device_id AND c.state = 'pending')
        ORDER BY l.next_attempt_at
        LIMIT $3
        FOR UPDATE OF l SKIP LOCKED
      ),
      leased AS (
        UPDATE chunk_lanes l SET lease_until = now() + make_interval(secs => $2::float8 / 1000), lease_owner = $1
        FROM due WHERE l.stream_id = due.stream_id AND l.device_id = due.device_id
        RETURNING l.stream_id, l.device_id
      )
      SELECT leased.stream_id, leased.device_id, d.serial, s.name, s.url_template, s.headers, s.max_attempts, s.timeout_ms
      FROM leased JOIN devices d ON d.id = leased.device_id JOIN chunk_streams s ON s.id = leased.stream_id
      WHERE s.enabled`,
    values: [owner, leaseMs, limit],
  });
  return result.rows.map((row) => ({
    streamId: row.stream_id,
    deviceId: row.device_id,
    serial: row.serial,
    stream: row.name,
    urlTemplate: row.url_template,
    headers: row.headers ?? {},
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
  }));
}

export type TPendingChunk = { id: string; payload: Buffer; contentType: string | null; attempts: number };

/** The lane's oldest pending chunks, in order. */
export async function nextChunks(pool: Pool, lane: { streamId: string; deviceId: string }, limit: number): Promise<TPendingChunk[]> {
  const result = await pool.query<TRowOf<"chunk_outbox", "id" | "payload" | "content_type" | "attempts">>({
    name: "fleetdrop_chunk_next",
    text: /* sql */ `
      SELECT c.id::text AS id, c.payload, c.content_type, c.attempts FROM chunk_outbox c
      WHERE c.stream_id = $1 AND c.device_id = $2 AND c.state = 'pending' ORDER BY c.id LIMIT $3`,
    values: [lane.streamId, lane.deviceId, limit],
  });
  return result.rows.map((row) => ({ id: row.id, payload: row.payload, contentType: row.content_type, attempts: row.attempts }));
}

/** Removes delivered chunks and counts them on their lane (still leased by `owner`). */
export async function markDelivered(
  pool: Pool,
  lane: { streamId: string; deviceId: string },
  ids: string[],
  owner: string,
  leaseMs: number,
): Promise<void> {
  if (ids.length === 0) return;
  await pool.query({
    name: "fleetdrop_chunk_delivered",
    text: /* sql */ `
      WITH gone AS (DELETE FROM chunk_outbox WHERE id = ANY($3::int8[]) RETURNING id)
      UPDATE chunk_lanes SET delivered_count = delivered_count + (SELECT count(*) FROM gone), last_delivered_at = now(),
             last_attempt_at = now(), last_error = NULL,
             lease_until = CASE WHEN lease_owner = $4 THEN now() + make_interval(secs => $5::float8 / 1000) ELSE lease_until END
      WHERE stream_id = $1 AND device_id = $2`,
    values: [lane.streamId, lane.deviceId, ids, owner, leaseMs],
  });
}

/**
 * Records a failed attempt. `park`: the chunk stops blocking its lane (too many attempts, or
 * refused for good); otherwise the lane waits until `retryAt`.
 */
export async function recordFailure(
  pool: Pool,
  input: {
    lane: { streamId: string; deviceId: string };
    chunkId: string;
    error: string;
    status: number | null;
    park: boolean;
    retryAt: Date | null;
  },
): Promise<void> {
  await pool.query({
    name: "fleetdrop_chunk_failed",
    text: /* sql */ `
      WITH chunk AS (
        UPDATE chunk_outbox SET attempts = attempts + 1, last_error = $4, last_status = $5,
               state = CASE WHEN $6 THEN 'parked'::chunk_state ELSE state END,
               parked_at = CASE WHEN $6 THEN now() ELSE parked_at END
        WHERE id = $3 RETURNING id
      )
      UPDATE chunk_lanes SET last_error = $4, last_attempt_at = now(),
             next_attempt_at = coalesce($7::timestamptz, now())
      WHERE stream_id = $1 AND device_id = $2`,
    values: [input.lane.streamId, input.lane.deviceId, input.chunkId, input.error.slice(0, 1000), input.status, input.park, input.retryAt],
  });
}

/** Gives a lane back (its lease ends now, so any worker may take it when due). */
export async function releaseLane(pool: Pool, lane: { streamId: string; deviceId: string }, owner: string): Promise<void> {
  await runTyped(
    pool,
    typedSql
      .updateTable("chunk_lanes")
      .set({ lease_until: null, lease_owner: null })
      .where("stream_id", "=", lane.streamId)
      .where("device_id", "=", lane.deviceId)
      .where("lease_owner", "=", owner),
    { name: "fleetdrop_chunk_release" },
  );
}
