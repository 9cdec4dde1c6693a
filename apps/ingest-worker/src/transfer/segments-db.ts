/**
 * Stages a batch of file_transfer segments in PostgreSQL with ONE statement (one commit, one WAL flush):
 * every segment's transfer is looked up by (device serial, file_id), segments of active
 * transfers that fit are inserted, and each gets an outcome. The bytes travel as one binary
 * parameter (node-pg sends Buffers in binary format; no hex, no escaping) cut with substring().
 *
 * A re-sent segment (same offset) keeps the longer of the two; identical re-sends change
 * nothing. Overlaps at other offsets are stored as they come and resolved on assembly.
 */
import type { TransferState, TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { packPayloads } from "../db/payload-blob";

export type TSegmentWrite = {
  serial: string;
  fileRef: string;
  offset: number;
  data: Buffer;
};

export type TSegmentOutcome =
  | { ok: true }
  | {
      ok: false;
      code:
        "device_unknown" | "device_disabled" | "transfer_not_found" | "transfer_completed" | "segment_out_of_range" | "transfer_too_large";
      size?: number | null;
    };

const SQL = /* sql */ `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $5::int4[])
    WITH ORDINALITY AS r(serial, ref, off, pos, len, ord)
),
ctx AS (
  SELECT r.*, d.id AS device_uuid, d.enabled, t.id AS tid, t.state::text AS state, t.size
  FROM req r
  LEFT JOIN devices d ON d.serial = r.serial
  LEFT JOIN file_transfers t ON t.device_id = d.id AND t.file_ref = r.ref
),
fits AS (
  SELECT * FROM ctx
  WHERE enabled AND state = 'active' AND (size IS NULL OR off + len <= size) AND off + len <= $7
),
written AS (
  INSERT INTO transfer_segments AS s (transfer_id, "offset", length, data)
  SELECT tid, off, len, substring($6::bytea FROM pos + 1 FOR len) FROM fits ORDER BY tid, off
  ON CONFLICT (transfer_id, "offset") DO UPDATE SET length = EXCLUDED.length, data = EXCLUDED.data
    WHERE EXCLUDED.length > s.length
),
touched AS (
  UPDATE file_transfers t SET last_activity_at = now()
  FROM (SELECT DISTINCT tid FROM fits) k
  WHERE t.id = k.tid AND t.last_activity_at < now() - interval '10 seconds'
)
SELECT ord, device_uuid IS NOT NULL AS device_found, coalesce(enabled, false) AS enabled, tid IS NOT NULL AS found, state,
  size::float8 AS size
FROM ctx ORDER BY ord`;

/** One item per (device, file, offset): the longest copy wins; duplicates share its outcome. */
export function dedupeSegments(items: TSegmentWrite[]): { chosen: TSegmentWrite[]; slotOf: number[] } {
  const unique = new Map<string, number>();
  const chosen: TSegmentWrite[] = [];
  const slotOf = items.map((item) => {
    const key = `${item.serial}\u0000${item.fileRef}\u0000${item.offset}`;
    const slot = unique.get(key);
    if (slot === undefined) {
      unique.set(key, chosen.length);
      chosen.push(item);
      return chosen.length - 1;
    }
    if (item.data.length > chosen[slot]!.data.length) chosen[slot] = item;
    return slot;
  });
  return { chosen, slotOf };
}

/** Per segment: whether its device and transfer exist; the transfer's state and size (read as float8) where it does. */
export type TSegmentRow = {
  device_found: boolean;
  enabled: TRowOf<"devices", "enabled">["enabled"];
  found: boolean;
  state: TransferState | null;
  size: number | null;
};

export function segmentOutcome(row: TSegmentRow, item: TSegmentWrite, maxFileBytes: number): TSegmentOutcome {
  if (!row.device_found) return { ok: false, code: "device_unknown" };
  if (!row.enabled) return { ok: false, code: "device_disabled" };
  if (!row.found) return { ok: false, code: "transfer_not_found" };
  if (row.state !== "active") return { ok: false, code: "transfer_completed" };
  if (row.size !== null && item.offset + item.data.length > row.size) return { ok: false, code: "segment_out_of_range", size: row.size };
  if (item.offset + item.data.length > maxFileBytes) return { ok: false, code: "transfer_too_large" };
  return { ok: true };
}

/** Writes a batch; `maxFileBytes` refuses segments that end beyond the largest file allowed. */
export async function writeSegments(pool: Pool, items: TSegmentWrite[], maxFileBytes: number): Promise<TSegmentOutcome[]> {
  const { chosen, slotOf } = dedupeSegments(items);
  const { blob, positions } = packPayloads(chosen.map((item) => item.data));
  const result = await pool.query<TSegmentRow>({
    name: "fleetdrop_write_segments",
    text: SQL,
    values: [
      chosen.map((item) => item.serial),
      chosen.map((item) => item.fileRef),
      chosen.map((item) => item.offset),
      positions,
      chosen.map((item) => item.data.length),
      blob,
      maxFileBytes,
    ],
  });
  const outcomes = result.rows.map((row, index) => segmentOutcome(row, chosen[index]!, maxFileBytes));
  return slotOf.map((slot) => outcomes[slot]!);
}
