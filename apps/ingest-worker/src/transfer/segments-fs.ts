/**
 * Stages a batch of §2 segments in files (see file-staging.ts): look the transfers up (one
 * statement), write the accepted segments at their offsets and fdatasync, then record their
 * ranges in transfer_segments as rows without bytes (one statement, one commit). A range is
 * recorded — and its PUBACK released — only after its bytes are on disk.
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { FileStaging } from "./file-staging";
import { dedupeSegments, segmentOutcome, type TSegmentOutcome, type TSegmentRow, type TSegmentWrite } from "./segments-db";

const LOOKUP = /* sql */ `
SELECT r.ord, d.id IS NOT NULL AS device_found, coalesce(d.enabled, false) AS enabled, t.id IS NOT NULL AS found,
       t.id AS tid, t.state::text AS state, t.size::float8 AS size, t.session_id, t.name, t.content_type
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(serial, ref, ord)
LEFT JOIN devices d ON d.serial = r.serial
LEFT JOIN file_transfers t ON t.device_id = d.id AND t.file_ref = r.ref
ORDER BY r.ord`;

const RECORD = /* sql */ `
WITH req AS (SELECT * FROM unnest($1::uuid[], $2::int8[], $3::int4[]) AS r(tid, off, len)),
written AS (
  INSERT INTO transfer_segments AS s (transfer_id, "offset", length, data)
  SELECT tid, off, len, ''::bytea FROM req ORDER BY tid, off
  ON CONFLICT (transfer_id, "offset") DO UPDATE SET length = EXCLUDED.length, data = ''::bytea
    WHERE EXCLUDED.length > s.length
)
UPDATE file_transfers t SET last_activity_at = now()
FROM (SELECT DISTINCT tid FROM req) k
WHERE t.id = k.tid AND t.last_activity_at < now() - interval '10 seconds'`;

export type TStagedTransfer = { id: string; serial: string; sessionId: number; name: string; contentType: string };

export async function writeSegmentsViaFiles(
  pool: Pool,
  staging: FileStaging,
  items: TSegmentWrite[],
  maxFileBytes: number,
  /** Called once the batch is durable and recorded, per transfer, with what it added. */
  onStaged?: (transfer: TStagedTransfer, writes: { offset: number; length: number }[]) => void,
): Promise<TSegmentOutcome[]> {
  const { chosen, slotOf } = dedupeSegments(items);
  const found = await pool.query<TSegmentRow & { tid: string | null; session_id: number; name: string; content_type: string }>({
    name: "fleetdrop_segments_lookup",
    text: LOOKUP,
    values: [chosen.map((item) => item.serial), chosen.map((item) => item.fileRef)],
  });
  const outcomes = found.rows.map((row, index) => segmentOutcome(row, chosen[index]!, maxFileBytes));
  const accepted = chosen.map((item, index) => ({ item, tid: found.rows[index]!.tid })).filter((_, index) => outcomes[index]!.ok);
  if (accepted.length > 0) {
    await staging.write(accepted.map(({ item, tid }) => ({ transferId: tid!, offset: item.offset, data: item.data })));
    await pool.query({
      name: "fleetdrop_segments_record",
      text: RECORD,
      values: [accepted.map(({ tid }) => tid), accepted.map(({ item }) => item.offset), accepted.map(({ item }) => item.data.length)],
    });
    if (onStaged) {
      const byTransfer = new Map<string, { transfer: TStagedTransfer; writes: { offset: number; length: number }[] }>();
      chosen.forEach((item, index) => {
        const row = found.rows[index]!;
        if (!outcomes[index]!.ok || !row.tid) return;
        let entry = byTransfer.get(row.tid);
        if (!entry) {
          entry = { transfer: { id: row.tid, serial: item.serial, sessionId: row.session_id, name: row.name, contentType: row.content_type }, writes: [] };
          byTransfer.set(row.tid, entry);
        }
        entry.writes.push({ offset: item.offset, length: item.data.length });
      });
      for (const { transfer, writes } of byTransfer.values()) {
        try {
          onStaged(transfer, writes);
        } catch {
          // An optimisation only (eager assembly): the segments are stored and recorded either way.
        }
      }
    }
  }
  return slotOf.map((slot) => outcomes[slot]!);
}
