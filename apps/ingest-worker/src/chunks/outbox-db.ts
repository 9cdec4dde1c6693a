/**
 * SQL of the chunk outbox (docs/protocol.md#chunks) (tables chunk_outbox, chunk_lanes, chunk_streams).
 *
 * - `enqueueChunks`: a batch of received chunks in ONE statement (one commit): each is checked
 *   (device known and enabled, its project has an enabled stream of that name), stored in
 *   arrival order, and its lane (stream, device) is created if new.
 * - Lanes are delivered one chunk after the other, in id order, with the SQL the webhook outbox
 *   shares (../delivery/lane-outbox-db.ts): a worker leases a lane so several workers share the
 *   work without reordering it, and reads it only while no writer of it is open.
 */
import { ADVISORY_LOCK } from "@fleetdrop/db/advisory-locks";
import type { TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { packPayloads } from "../db/payload-blob";
import { withTransaction } from "../db/transaction";
import { createLaneOutboxDb, LANE_OUTBOXES } from "../delivery/lane-outbox-db";

export type TChunkWrite = { serial: string; stream: string; data: Buffer; contentType: string | null };

export type TChunkOutcome = { ok: true; chunkId: string } | { ok: false; code: "device_unknown" | "device_disabled" | "stream_not_found" };

/**
 * Stores a batch of chunks in one transaction (one commit). Ids are assigned in arrival order;
 * the answer's chunk_id is read back by position among the accepted ones.
 */
export async function enqueueChunks(pool: Pool, items: TChunkWrite[]): Promise<TChunkOutcome[]> {
  const { blob, positions } = packPayloads(items.map((item) => item.data));
  return withTransaction(pool, async (client) => {
    const checked = await client.query<{ device_uuid: string | null; device_found: boolean; enabled: boolean; stream_ok: boolean }>({
      name: "fleetdrop_chunk_check",
      text: /* sql */ `
        SELECT d.id AS device_uuid, d.id IS NOT NULL AS device_found, coalesce(d.enabled, false) AS enabled,
               coalesce(s.enabled, false) AS stream_ok
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
      // Before any id is taken, and until the commit: this transaction writes to its devices'
      // lanes (the lock's reader is fleetdrop_chunk_next). Writers share it, so they never wait
      // for each other; a writer waits at most for a reader's one short statement.
      await client.query({
        name: "fleetdrop_chunk_lane_writer",
        text: "SELECT pg_advisory_xact_lock_shared($1, hashtext(id::text)) FROM unnest($2::uuid[]) AS id",
        values: [ADVISORY_LOCK.chunkLane, [...new Set(take.map((index) => checked.rows[index]!.device_uuid!))]],
      });
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

const outbox = createLaneOutboxDb(LANE_OUTBOXES.chunk);

const laneKey = (lane: { streamId: string; deviceId: string }) => [lane.streamId, lane.deviceId] as const;

/** Leases up to `limit` lanes that have pending chunks and are due. */
export async function leaseLanes(pool: Pool, owner: string, leaseMs: number, limit: number): Promise<TLane[]> {
  const rows = await outbox.lease<
    TRowOf<"chunk_lanes", "stream_id" | "device_id"> &
      TRowOf<"devices", "serial"> &
      TRowOf<"chunk_streams", "name" | "url_template" | "max_attempts" | "timeout_ms"> & {
        /** JSON in the table; the dashboard stores only a name → value object (manage-chunk-streams). */
        headers: Record<string, string> | null;
      }
  >(
    pool,
    { owner, leaseMs, limit },
    /* sql */ `
      SELECT leased.stream_id, leased.device_id, d.serial, s.name, s.url_template, s.headers, s.max_attempts, s.timeout_ms
      FROM leased JOIN devices d ON d.id = leased.device_id JOIN chunk_streams s ON s.id = leased.stream_id
      WHERE s.enabled`,
  );
  return rows.map((row) => ({
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

/**
 * The lane's oldest pending chunks, in order, read only while no writer of the lane is open
 * (fleetdrop_chunk_next, migration 20261208100000_chunk_lane_order): a chunk that commits after a
 * later one of its lane is neither skipped nor overtaken.
 */
export async function nextChunks(pool: Pool, lane: { streamId: string; deviceId: string }, limit: number): Promise<TPendingChunk[]> {
  const rows = await outbox.nextInOrder<{ id: string | null; payload: Buffer; content_type: string | null; attempts: number }>(
    pool,
    "fleetdrop_chunk_next",
    laneKey(lane),
    limit,
    "id::text AS id, payload, content_type, attempts",
  );
  return rows.map((row) => ({ id: row.id, payload: row.payload, contentType: row.content_type, attempts: row.attempts }));
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
  await outbox.delivered(
    pool,
    laneKey(lane),
    { owner, leaseMs },
    { ctes: "done AS (DELETE FROM chunk_outbox WHERE id = ANY($5::int8[]) RETURNING id)", values: [ids] },
  );
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
  await outbox.failed(pool, laneKey(input.lane), { ...input, itemId: input.chunkId });
}

/** Gives a lane back (its lease ends now, so any worker may take it when due). */
export async function releaseLane(pool: Pool, lane: { streamId: string; deviceId: string }, owner: string): Promise<void> {
  await outbox.release(pool, laneKey(lane), owner);
}
