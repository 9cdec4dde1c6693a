/**
 * Stages a batch of file_transfer segments in files (see file-staging.ts): look the transfers up (one
 * statement, skipped for transfers this worker already saw active), write the accepted segments
 * at their offsets durably, then record the ranges written (one row without bytes per run of
 * adjacent segments, as FileStaging.write returns them) in transfer_segments (one statement, one
 * commit). A range is recorded — and its PUBACK released — only after its
 * bytes are on disk.
 */
import type { TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import type { TStagedSegment } from "./eager-assembly";
import type { FileStaging } from "./file-staging";
import { dedupeSegments, segmentOutcome, type TSegmentOutcome, type TSegmentRow, type TSegmentWrite } from "./segments-db";

const LOOKUP = /* sql */ `
SELECT r.ord, d.id IS NOT NULL AS device_found, coalesce(d.enabled, false) AS enabled, t.id IS NOT NULL AS found,
       t.id AS tid, t.state::text AS state, t.size::float8 AS size, t.session_id, t.name, t.content_type
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(serial, ref, ord)
LEFT JOIN devices d ON d.serial = r.serial
LEFT JOIN file_transfers t ON t.device_id = d.id AND t.file_ref = r.ref
ORDER BY r.ord`;

// Records the ranges of transfers that are still active and whose device is still enabled (the
// writer may have skipped the lookup: see ActiveTransfers) and returns those transfers' ids.
const RECORD = /* sql */ `
WITH req AS (SELECT * FROM unnest($1::uuid[], $2::int8[], $3::int4[]) AS r(tid, off, len)),
live AS (
  SELECT t.id FROM file_transfers t JOIN devices d ON d.id = t.device_id
  WHERE t.id IN (SELECT tid FROM req) AND t.state = 'active' AND d.enabled
),
written AS (
  INSERT INTO transfer_segments AS s (transfer_id, "offset", length, data)
  SELECT tid, off, len, ''::bytea FROM req WHERE tid IN (SELECT id FROM live) ORDER BY tid, off
  ON CONFLICT (transfer_id, "offset") DO UPDATE SET length = EXCLUDED.length, data = ''::bytea
    WHERE EXCLUDED.length > s.length
),
touched AS (
  UPDATE file_transfers t SET last_activity_at = now()
  WHERE t.id IN (SELECT id FROM live) AND t.last_activity_at < now() - interval '10 seconds'
)
SELECT id AS tid FROM live`;

export type TStagedTransfer = { id: string; serial: string; sessionId: number; name: string; contentType: string };

type TKnownTransfer = TStagedTransfer & { size: number | null };

/**
 * Transfers this worker has seen active, by device serial and file_id, so that a batch of
 * segments of a transfer in progress skips the lookup: one PostgreSQL round trip less per batch.
 * Nothing is trusted blindly: the statement that records the ranges checks again, in the same
 * commit, that each transfer is active and its device enabled, and a segment of a transfer that
 * is not is looked up afresh (and its recorded outcome is what the lookup says).
 */
export class ActiveTransfers {
  private readonly known = new Map<string, TKnownTransfer>();

  constructor(private readonly maxEntries = 1024) {}

  get(serial: string, fileRef: string): TKnownTransfer | undefined {
    return this.known.get(`${serial}\u0000${fileRef}`);
  }

  remember(fileRef: string, transfer: TKnownTransfer): void {
    if (this.known.size >= this.maxEntries) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.set(`${transfer.serial}\u0000${fileRef}`, transfer);
  }

  forget(transferId: string): void {
    for (const [key, transfer] of this.known) if (transfer.id === transferId) this.known.delete(key);
  }
}

type TTransferRow = TRowOf<"file_transfers", "id" | "session_id" | "name" | "content_type">;
type TLookupRow = TSegmentRow & { tid: TTransferRow["id"] | null } & Omit<TTransferRow, "id">;

export async function writeSegmentsViaFiles(
  pool: Pool,
  staging: FileStaging,
  items: TSegmentWrite[],
  maxFileBytes: number,
  /** Called once the batch is durable and recorded, per transfer, with what it added. */
  onStaged?: (transfer: TStagedTransfer, writes: TStagedSegment[]) => void,
  active: ActiveTransfers = new ActiveTransfers(),
): Promise<TSegmentOutcome[]> {
  const { chosen, slotOf } = dedupeSegments(items);
  const outcomes = await stage(pool, staging, chosen, maxFileBytes, onStaged, active, true);
  return slotOf.map((slot) => outcomes[slot]!);
}

async function stage(
  pool: Pool,
  staging: FileStaging,
  chosen: TSegmentWrite[],
  maxFileBytes: number,
  onStaged: ((transfer: TStagedTransfer, writes: TStagedSegment[]) => void) | undefined,
  active: ActiveTransfers,
  useKnown: boolean,
): Promise<TSegmentOutcome[]> {
  const transferOf: (TKnownTransfer | null)[] = chosen.map((item) => (useKnown ? (active.get(item.serial, item.fileRef) ?? null) : null));
  const outcomes: TSegmentOutcome[] = [];
  outcomes.length = chosen.length;
  const unknown = chosen.flatMap((item, index) => (transferOf[index] ? [] : [index]));
  if (unknown.length > 0) {
    const found = await pool.query<TLookupRow>({
      name: "fleetdrop_segments_lookup",
      text: LOOKUP,
      values: [unknown.map((index) => chosen[index]!.serial), unknown.map((index) => chosen[index]!.fileRef)],
    });
    found.rows.forEach((row, position) => {
      const index = unknown[position]!;
      const item = chosen[index]!;
      outcomes[index] = segmentOutcome(row, item, maxFileBytes);
      if (row.tid && row.state === "active" && row.enabled) {
        const transfer = {
          id: row.tid,
          serial: item.serial,
          sessionId: row.session_id,
          name: row.name,
          contentType: row.content_type,
          size: row.size,
        };
        transferOf[index] = transfer;
        active.remember(item.fileRef, transfer);
      } else {
        transferOf[index] = null;
      }
    });
  }
  chosen.forEach((item, index) => {
    const transfer = transferOf[index];
    if (outcomes[index] === undefined && transfer) {
      outcomes[index] = segmentOutcome(
        { device_found: true, enabled: true, found: true, state: "active", size: transfer.size },
        item,
        maxFileBytes,
      );
    }
  });
  const accepted = chosen.flatMap((item, index) => (outcomes[index]!.ok ? [{ item, index, transfer: transferOf[index]! }] : []));
  if (accepted.length === 0) return outcomes;

  const runs = await staging.write(
    accepted.map(({ item, transfer }) => ({ transferId: transfer.id, offset: item.offset, data: item.data })),
  );
  const recorded = await pool.query<{ tid: string }>({
    name: "fleetdrop_segments_record",
    text: RECORD,
    values: [runs.map((run) => run.transferId), runs.map((run) => run.offset), runs.map((run) => run.length)],
  });
  const live = new Set(recorded.rows.map((row) => row.tid));

  // Segments whose transfer stopped being active (or whose device was disabled) since it was
  // remembered: nothing of them was recorded; look them up again for their real outcome.
  const stale = accepted.filter(({ transfer }) => !live.has(transfer.id));
  if (stale.length > 0) {
    for (const { transfer } of stale) active.forget(transfer.id);
    if (useKnown) {
      const again = await stage(
        pool,
        staging,
        stale.map(({ item }) => item),
        maxFileBytes,
        onStaged,
        active,
        false,
      );
      stale.forEach(({ index }, position) => (outcomes[index] = again[position]!));
    } else {
      // Changed between the lookup and the record of this very batch (an abort, a fin, a
      // disabled device): answer what the database says now.
      const now = await pool.query<TLookupRow>({
        name: "fleetdrop_segments_lookup",
        text: LOOKUP,
        values: [stale.map(({ item }) => item.serial), stale.map(({ item }) => item.fileRef)],
      });
      stale.forEach(({ index, item }, position) => {
        const outcome = segmentOutcome(now.rows[position]!, item, maxFileBytes);
        outcomes[index] = outcome.ok ? { ok: false, code: "transfer_not_found" } : outcome;
      });
    }
  }

  if (onStaged) {
    const byTransfer = new Map<string, { transfer: TStagedTransfer; writes: TStagedSegment[] }>();
    for (const { item, transfer } of accepted) {
      if (!live.has(transfer.id)) continue;
      let entry = byTransfer.get(transfer.id);
      if (!entry) {
        entry = { transfer, writes: [] };
        byTransfer.set(transfer.id, entry);
      }
      entry.writes.push({ offset: item.offset, length: item.data.length, data: item.data });
    }
    for (const { transfer, writes } of byTransfer.values()) {
      try {
        onStaged(transfer, writes);
      } catch {
        // An optimisation only (eager assembly): the segments are stored and recorded either way.
      }
    }
  }
  return outcomes;
}
