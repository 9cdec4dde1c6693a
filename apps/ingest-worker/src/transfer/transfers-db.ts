/** SQL of file transfers over MQTT (table file_transfers): look-ups, creation, ranges, completion, clean-up. */
import { ADVISORY_LOCK } from "@fleetdrop/db/advisory-locks";
import { runTyped, typedSql, type SessionState, type TRowOf } from "@fleetdrop/db/kysely";
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import type { TExistingFile } from "@fleetdrop/shared/protocol/common";
import type { TByteRange, TTransferState } from "@fleetdrop/shared/protocol/transfer";
import { sql } from "kysely";
import { withTransaction } from "../db/transaction";

export type TTransferRecord = {
  id: string;
  deviceUuid: string;
  fileRef: string;
  sessionId: number;
  name: string;
  contentType: string;
  size: number | null;
  checksum: string | null;
  userData: unknown;
  /** The init asked to replace a file already uploaded under `name`. */
  overwrite: boolean;
  state: TTransferState;
  fileId: string | null;
  lastActivityAt: Date;
};

const TRANSFER_COLUMNS = /* sql */ `
  t.id AS t_id, t.device_id AS t_device_id, t.file_ref AS t_file_ref, t.session_id AS t_session_id, t.name AS t_name,
  t.content_type AS t_content_type, t.size::float8 AS t_size, t.checksum AS t_checksum, t.user_data AS t_user_data,
  t.overwrite AS t_overwrite, t.state::text AS t_state, t.file_id AS t_file_id, t.last_activity_at AS t_last_activity_at`;

type TTransferRow = TRowOf<
  "file_transfers",
  | "id"
  | "device_id"
  | "file_ref"
  | "session_id"
  | "name"
  | "content_type"
  | "checksum"
  | "user_data"
  | "overwrite"
  | "state"
  | "file_id"
  | "last_activity_at"
>;

/**
 * TRANSFER_COLUMNS as read: the table's columns prefixed `t_`; `t_id` is null where the LEFT
 * JOIN found no transfer, and the bigint size is read as float8 (a number).
 */
type TTransferColumns = Omit<{ [K in keyof TTransferRow as `t_${K}`]: TTransferRow[K] }, "t_id"> & {
  t_id: TTransferRow["id"] | null;
  t_size: number | null;
};

function toTransfer(row: TTransferColumns): TTransferRecord | null {
  if (!row.t_id) return null;
  return {
    id: row.t_id,
    deviceUuid: row.t_device_id,
    fileRef: row.t_file_ref,
    sessionId: row.t_session_id,
    name: row.t_name,
    contentType: row.t_content_type,
    size: row.t_size,
    checksum: row.t_checksum,
    userData: row.t_user_data,
    overwrite: row.t_overwrite,
    state: row.t_state,
    fileId: row.t_file_id,
    lastActivityAt: row.t_last_activity_at,
  };
}

/**
 * The file uploaded under a name in a session, as the `existing` of a `file_exists` answer
 * (docs/protocol.md#file_uploadrequest); SQL null when there is none. `session` and `name` are
 * the query's placeholders.
 */
function existingFile(session: string, name: string): string {
  return /* sql */ `(SELECT json_build_object('size', f.size, 'sha256', f.sha256,
                                 'uploaded_at', to_char(f.uploaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        FROM files f WHERE f.session_id = ${session} AND f.filename = ${name} AND f.state = 'uploaded')`;
}

export type TInitContext = {
  device: { id: string; enabled: boolean } | null;
  transfer: TTransferRecord | null;
  session: { deviceUuid: string; state: "open" | "closed" } | null;
  /** The file already uploaded under the name in the session, if any. */
  existing: TExistingFile | null;
};

/** Everything an init decides on, in one round trip. */
export async function loadInitContext(
  pool: Pool,
  input: { serial: string; fileRef: string; sessionId: number; name: string },
): Promise<TInitContext> {
  const result = await pool.query<
    TTransferColumns & {
      device_uuid: TRowOf<"devices", "id">["id"];
      enabled: TRowOf<"devices", "enabled">["enabled"];
      session_device: TRowOf<"sessions", "device_id">["device_id"] | null;
      session_state: SessionState | null;
      existing: TExistingFile | null;
    }
  >({
    name: "fleetdrop_transfer_init_context",
    text: /* sql */ `
      SELECT d.id AS device_uuid, d.enabled, s.device_id AS session_device, s.state::text AS session_state,
             ${existingFile("$3", "$4")} AS existing,
             ${TRANSFER_COLUMNS}
      FROM devices d
      LEFT JOIN sessions s ON s.id = $3
      LEFT JOIN file_transfers t ON t.device_id = d.id AND t.file_ref = $2
      WHERE d.serial = $1`,
    values: [input.serial, input.fileRef, input.sessionId, input.name],
  });
  const row = result.rows[0];
  if (!row) return { device: null, transfer: null, session: null, existing: null };
  return {
    device: { id: row.device_uuid, enabled: row.enabled },
    transfer: toTransfer(row),
    session: row.session_device ? { deviceUuid: row.session_device, state: row.session_state! } : null,
    existing: row.existing,
  };
}

/**
 * Whether a transfer may still store its file: its session open and no file of its name
 * uploaded there since `init` (by a form or another transfer), whose bytes it would replace —
 * unless the transfer was begun with `overwrite`. A `file_exists` refusal carries that file, as
 * the one of `init` does.
 */
export async function finRefusal(
  pool: Pool,
  sessionId: number,
  name: string,
  overwrite = false,
): Promise<{ code: "session_closed" } | { code: "file_exists"; existing: TExistingFile } | null> {
  const result = await pool.query<{ session_state: SessionState | null; existing: TExistingFile | null }>({
    name: "fleetdrop_transfer_fin_target",
    text: /* sql */ `
      SELECT (SELECT state::text FROM sessions WHERE id = $1) AS session_state, ${existingFile("$1", "$2")} AS existing`,
    values: [sessionId, name],
  });
  const row = result.rows[0];
  if (row?.session_state !== "open") return { code: "session_closed" };
  return row.existing && !overwrite ? { code: "file_exists", existing: row.existing } : null;
}

export type TNewTransfer = {
  deviceUuid: string;
  fileRef: string;
  sessionId: number;
  name: string;
  contentType: string;
  size: number | null;
  checksum: string | null;
  userData: unknown;
  overwrite: boolean;
};

/**
 * Creates the transfer unless the device already has `maxActive` active ones. The count and
 * insert run under a per-device lock, so concurrent inits on several workers cannot pass it.
 */
export async function createTransfer(pool: Pool, input: TNewTransfer, maxActive: number): Promise<"created" | "exists" | "limit"> {
  return withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [ADVISORY_LOCK.transferCreate, input.deviceUuid]);
    const active = await runTyped(
      client,
      typedSql
        .selectFrom("file_transfers")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("device_id", "=", input.deviceUuid)
        .where("state", "=", "active"),
    );
    // Nothing written: committing ends the transaction as a rollback would.
    if ((active.rows[0]?.n ?? 0) >= maxActive) return "limit";
    const inserted = await runTyped(
      client,
      typedSql
        .insertInto("file_transfers")
        .values({
          device_id: input.deviceUuid,
          file_ref: input.fileRef,
          session_id: input.sessionId,
          name: input.name,
          content_type: input.contentType,
          size: input.size,
          checksum: input.checksum,
          user_data: input.userData === null ? null : JSON.stringify(input.userData),
          overwrite: input.overwrite,
        })
        .onConflict((conflict) => conflict.columns(["device_id", "file_ref"]).doNothing()),
    );
    return inserted.rowCount === 1 ? "created" : "exists";
  });
}

/** The device's transfer `fileRef`, and whether the device may act (known and enabled). */
export async function findTransfer(
  pool: Pool | PoolClient,
  serial: string,
  fileRef: string,
): Promise<{ deviceKnown: boolean; deviceEnabled: boolean; transfer: TTransferRecord | null }> {
  const result = await pool.query<TTransferColumns & TRowOf<"devices", "enabled">>({
    name: "fleetdrop_transfer_find",
    text: /* sql */ `
      SELECT d.enabled, ${TRANSFER_COLUMNS}
      FROM devices d LEFT JOIN file_transfers t ON t.device_id = d.id AND t.file_ref = $2
      WHERE d.serial = $1`,
    values: [serial, fileRef],
  });
  const row = result.rows[0];
  if (!row) return { deviceKnown: false, deviceEnabled: false, transfer: null };
  return { deviceKnown: true, deviceEnabled: row.enabled, transfer: toTransfer(row) };
}

/**
 * The byte ranges held for a transfer, merged in SQL (gaps and islands): one row per
 * contiguous range however many segments there are.
 */
export async function heldRanges(db: Pool | PoolClient, transferId: string): Promise<TByteRange[]> {
  const result = await db.query<{ start: number; end: number }>({
    name: "fleetdrop_transfer_ranges",
    text: /* sql */ `
      SELECT min(s)::float8 AS start, max(e)::float8 AS "end"
      FROM (
        SELECT s, e, count(*) FILTER (WHERE s > coalesce(reach, -1)) OVER (ORDER BY s, e) AS island
        FROM (
          SELECT "offset" AS s, "offset" + length AS e,
                 max("offset" + length) OVER (ORDER BY "offset", length ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
          FROM transfer_segments WHERE transfer_id = $1
        ) segments
      ) islands
      GROUP BY island ORDER BY start`,
    values: [transferId],
  });
  return result.rows.map((row) => [row.start, row.end]);
}

/** Refreshes the transfer's TTL clock (at most every few seconds: it is a row update). */
export async function touchTransfer(pool: Pool, transferId: string): Promise<void> {
  await runTyped(
    pool,
    typedSql
      .updateTable("file_transfers")
      .set({ last_activity_at: sql<Date>`now()` })
      .where("id", "=", transferId)
      .where("last_activity_at", "<", sql<Date>`now() - interval '5 seconds'`),
    { name: "fleetdrop_transfer_touch" },
  );
}

/** Drops an active transfer and its segments; false when there was none (or it is completed). */
export async function deleteActiveTransfer(pool: Pool, transferId: string): Promise<boolean> {
  const result = await runTyped(pool, typedSql.deleteFrom("file_transfers").where("id", "=", transferId).where("state", "=", "active"));
  return result.rowCount === 1;
}

export type TCompletion = {
  transfer: TTransferRecord;
  serial: string;
  objectKey: string;
  size: number;
  etag: string;
  storedContentType: string | undefined;
  /** SHA-256 of the stored bytes (hashed on their way to storage). */
  sha256: string;
};

/**
 * Records the assembled file like any other upload (state uploaded, size, ETag, the device's
 * user_data) and marks the transfer completed. Its segments are left for the clean-up job, so
 * the device's answer does not wait for them to be deleted.
 */
export async function completeTransfer(pool: Pool, completion: TCompletion): Promise<{ fileId: string; changed: boolean }> {
  const { transfer } = completion;
  return withTransaction(pool, async (client) => {
    const file = await client.query<TRowOf<"files", "id"> & { changed: boolean }>(
      `WITH before AS (SELECT state FROM files WHERE session_id = $1 AND filename = $2)
       INSERT INTO files AS f (session_id, filename, object_key, content_type, size_limit, state, size, etag,
                               stored_content_type, uploaded_at, expires_at, next_check_at, user_data, sha256, arrived_via)
       VALUES ($1, $2, $3, $4, $5, 'uploaded', $5, $6, $7, now(), now(), now(), $8::jsonb, $9, 'mqtt_transfer')
       ON CONFLICT (session_id, filename) DO UPDATE
         SET state = 'uploaded', object_key = EXCLUDED.object_key, content_type = EXCLUDED.content_type,
             size_limit = EXCLUDED.size_limit, size = EXCLUDED.size, etag = EXCLUDED.etag,
             stored_content_type = EXCLUDED.stored_content_type, user_data = EXCLUDED.user_data,
             sha256 = EXCLUDED.sha256, arrived_via = EXCLUDED.arrived_via, uploaded_at = now(), updated_at = now()
       RETURNING f.id, coalesce((SELECT state::text FROM before), '') <> 'uploaded' AS changed`,
      [
        transfer.sessionId,
        transfer.name,
        completion.objectKey,
        transfer.contentType,
        completion.size,
        completion.etag,
        completion.storedContentType ?? null,
        transfer.userData === null || transfer.userData === undefined ? null : JSON.stringify(transfer.userData),
        completion.sha256,
      ],
    );
    const row = file.rows[0]!;
    await runTyped(
      client,
      typedSql
        .updateTable("file_transfers")
        .set({
          state: "completed",
          file_id: row.id,
          size: completion.size,
          completed_at: sql<Date>`now()`,
          last_activity_at: sql<Date>`now()`,
        })
        .where("id", "=", transfer.id),
    );
    return { fileId: row.id, changed: row.changed };
  });
}

/** The object key of a completed transfer's file (for an idempotent answer to a repeated fin). */
export async function completedFile(pool: Pool, fileId: string | null): Promise<{ objectKey: string; etag: string | null } | null> {
  if (!fileId) return null;
  const result = await runTyped(pool, typedSql.selectFrom("files").select(["object_key", "etag"]).where("id", "=", fileId));
  const row = result.rows[0];
  return row ? { objectKey: row.object_key, etag: row.etag } : null;
}

/** Deletes the segments of one completed transfer (right after completion, off the answer's path). */
export async function deleteSegments(pool: Pool, transferId: string): Promise<number> {
  const result = await runTyped(pool, typedSql.deleteFrom("transfer_segments").where("transfer_id", "=", transferId));
  return result.rowCount;
}

export type TCleanupResult = { expired: number; purgedSegments: number; stagingFilesRemoved?: number };

/**
 * The clean-up job: removes active transfers idle for longer than the TTL (their segments go
 * with them) and segments left behind by completed transfers. Safe with several workers: rows
 * are claimed with FOR UPDATE SKIP LOCKED.
 */
export async function cleanUpTransfers(pool: Pool, ttlSeconds: number, batch = 20): Promise<TCleanupResult> {
  const expired = await pool.query(
    `DELETE FROM file_transfers WHERE id IN (
       SELECT id FROM file_transfers
       WHERE state = 'active' AND last_activity_at < now() - make_interval(secs => $1)
       ORDER BY last_activity_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [ttlSeconds, batch],
  );
  // Segments of transfers completed in the last week (normally deleted right after fin; this
  // catches leftovers without scanning every transfer ever completed).
  const purged = await pool.query(
    `DELETE FROM transfer_segments s USING (
       SELECT id FROM file_transfers done
       WHERE done.state = 'completed' AND done.last_activity_at > now() - interval '7 days'
         AND EXISTS (SELECT 1 FROM transfer_segments x WHERE x.transfer_id = done.id)
       LIMIT $1) done
     WHERE s.transfer_id = done.id`,
    [batch],
  );
  return { expired: expired.rowCount ?? 0, purgedSegments: purged.rowCount ?? 0 };
}
