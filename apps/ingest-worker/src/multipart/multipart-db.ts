/**
 * The multipart_uploads rows: what a device's upload is, and where it stands. Every change of
 * state is one conditional UPDATE (`WHERE state = …`), so two workers, or a device and the
 * expiry sweep, racing on one upload cannot both act: the one whose UPDATE returned the row does.
 */
import type { MultipartState, SessionState, TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";

export type TMultipartState = MultipartState;

export type TMultipartRow = {
  id: string;
  /** The device's serial (its protocol id). */
  device: string;
  sessionId: number;
  sessionState: string;
  fileId: string;
  filename: string;
  objectKey: string;
  storeUploadId: string;
  contentType: string;
  size: number;
  partSize: number;
  sha256: string | null;
  state: TMultipartState;
  etag: string | null;
  createdAt: Date;
};

const COLUMNS = /* sql */ `
  m.id, d.serial AS device, m.session_id, s.state::text AS session_state, m.file_id, f.filename, m.object_key,
  m.store_upload_id, m.content_type, m.size, m.part_size, m.sha256, m.state::text AS state, m.etag, m.created_at`;
const FROM = /* sql */ `
  multipart_uploads m JOIN devices d ON d.id = m.device_id JOIN sessions s ON s.id = m.session_id JOIN files f ON f.id = m.file_id`;

/** A row of COLUMNS (`state::text` reads back as the enum's values). */
type TRaw = TRowOf<
  "multipart_uploads",
  | "id"
  | "session_id"
  | "file_id"
  | "object_key"
  | "store_upload_id"
  | "content_type"
  | "size"
  | "part_size"
  | "sha256"
  | "state"
  | "etag"
  | "created_at"
> &
  TRowOf<"files", "filename"> & { device: TRowOf<"devices", "serial">["serial"]; session_state: SessionState };

function toRow(raw: TRaw): TMultipartRow {
  return {
    id: raw.id,
    device: raw.device,
    sessionId: raw.session_id,
    sessionState: raw.session_state,
    fileId: raw.file_id,
    filename: raw.filename,
    objectKey: raw.object_key,
    storeUploadId: raw.store_upload_id,
    contentType: raw.content_type,
    size: Number(raw.size),
    partSize: Number(raw.part_size),
    sha256: raw.sha256,
    state: raw.state,
    etag: raw.etag,
    createdAt: raw.created_at,
  };
}

/** The upload `id` of device `serial`; null when there is none (or it is another device's). */
export async function findUploadOfDevice(pool: Pool, id: string, serial: string): Promise<TMultipartRow | null> {
  const result = await pool.query<TRaw>(`SELECT ${COLUMNS} FROM ${FROM} WHERE m.id = $1 AND d.serial = $2`, [id, serial]);
  return result.rows[0] ? toRow(result.rows[0]) : null;
}

/** The open upload of a session file, if any (a repeated create resumes it). */
export async function findOpenUploadOfFile(pool: Pool, serial: string, objectKey: string): Promise<TMultipartRow | null> {
  const result = await pool.query<TRaw>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.object_key = $1 AND d.serial = $2 AND m.state = 'open' ORDER BY m.created_at DESC LIMIT 1`,
    [objectKey, serial],
  );
  return result.rows[0] ? toRow(result.rows[0]) : null;
}

export async function countOpenUploads(pool: Pool, serial: string): Promise<number> {
  const result = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM multipart_uploads m JOIN devices d ON d.id = m.device_id
     WHERE d.serial = $1 AND m.state IN ('open', 'completing')`,
    [serial],
  );
  return Number(result.rows[0]?.n ?? 0);
}

export async function insertUpload(
  pool: Pool,
  row: {
    id: string;
    serial: string;
    sessionId: number;
    fileId: string;
    objectKey: string;
    storeUploadId: string;
    contentType: string;
    size: number;
    partSize: number;
    sha256: string | null;
    ttlSeconds: number;
  },
): Promise<void> {
  await pool.query(
    `INSERT INTO multipart_uploads (id, device_id, session_id, file_id, object_key, store_upload_id, content_type, size, part_size,
                                    sha256, expires_at)
     SELECT $1, d.id, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11) FROM devices d WHERE d.serial = $2`,
    [
      row.id,
      row.serial,
      row.sessionId,
      row.fileId,
      row.objectKey,
      row.storeUploadId,
      row.contentType,
      row.size,
      row.partSize,
      row.sha256,
      row.ttlSeconds,
    ],
  );
}

/**
 * The device was heard of about an open upload: it expires MULTIPART_TTL from now, and so does
 * its pending file row (the pending sweeper looks at storage only when that passes).
 */
export async function touchUpload(pool: Pool, id: string, ttlSeconds: number): Promise<void> {
  await pool.query(
    `WITH m AS (
       UPDATE multipart_uploads SET expires_at = now() + make_interval(secs => $2), updated_at = now()
       WHERE id = $1 AND state = 'open' RETURNING file_id, expires_at)
     UPDATE files f SET expires_at = m.expires_at, next_check_at = m.expires_at, updated_at = now()
     FROM m WHERE f.id = m.file_id AND f.state = 'pending'`,
    [id, ttlSeconds],
  );
}

/**
 * Moves the upload from one of `from` to `to`; null when it was in none of them (someone else
 * moved it first). `staleAfterSeconds`: a row in `completing`/`aborting` is taken over only when
 * its holder has not refreshed it for that long (its worker died).
 */
export async function moveUpload(
  pool: Pool,
  id: string,
  from: readonly TMultipartState[],
  to: TMultipartState,
  options: { staleAfterSeconds?: number; etag?: string } = {},
): Promise<TMultipartRow | null> {
  const moved = await pool.query<TRowOf<"multipart_uploads", "id">>(
    `UPDATE multipart_uploads m SET state = $3::multipart_state, updated_at = now(), etag = coalesce($5, m.etag)
     WHERE m.id = $1 AND m.state::text = ANY($2::text[])
       AND ($4::float8 IS NULL OR m.state NOT IN ('completing', 'aborting') OR m.updated_at < now() - make_interval(secs => $4))
     RETURNING m.id`,
    [id, from, to, options.staleAfterSeconds ?? null, options.etag ?? null],
  );
  if (moved.rowCount === 0) return null;
  const result = await pool.query<TRaw>(`SELECT ${COLUMNS} FROM ${FROM} WHERE m.id = $1`, [id]);
  return result.rows[0] ? toRow(result.rows[0]) : null;
}

/** Keeps a `completing`/`aborting` row fresh while its worker works on it (see moveUpload). */
export async function heartbeat(pool: Pool, id: string): Promise<void> {
  await pool.query(`UPDATE multipart_uploads SET updated_at = now() WHERE id = $1 AND state IN ('completing', 'aborting')`, [id]);
}

/** Uploads the sweep must act on: open ones past their expiry, and completions or aborts whose worker went quiet. */
export async function findDueUploads(
  pool: Pool,
  staleAfterSeconds: number,
  limit: number,
): Promise<TRowOf<"multipart_uploads", "id" | "state">[]> {
  const result = await pool.query<TRowOf<"multipart_uploads", "id" | "state">>(
    `SELECT id, state::text AS state FROM multipart_uploads
     WHERE (state = 'open' AND expires_at < now())
        OR (state IN ('completing', 'aborting') AND updated_at < now() - make_interval(secs => $1))
     ORDER BY updated_at LIMIT $2`,
    [staleAfterSeconds, limit],
  );
  return result.rows;
}

/** Of these storage upload ids, those a live row (open, completing, aborting) still owns. */
export async function liveStoreUploadIds(pool: Pool, storeUploadIds: string[]): Promise<Set<string>> {
  if (storeUploadIds.length === 0) return new Set();
  const result = await pool.query<TRowOf<"multipart_uploads", "store_upload_id">>(
    `SELECT store_upload_id FROM multipart_uploads WHERE store_upload_id = ANY($1::text[]) AND state IN ('open', 'completing', 'aborting')`,
    [storeUploadIds],
  );
  return new Set(result.rows.map((row) => row.store_upload_id));
}

/**
 * After an abort: the file's pending row is left to the pending sweeper, now (it asks storage:
 * a file an overwrite was meant to replace is still there and stays uploaded; else it expires).
 */
export async function releaseFile(pool: Pool, fileId: string, state: "check" | "failed"): Promise<void> {
  if (state === "failed") {
    await pool.query(`UPDATE files SET state = 'failed', updated_at = now() WHERE id = $1 AND state = 'pending'`, [fileId]);
    return;
  }
  await pool.query(`UPDATE files SET expires_at = now(), next_check_at = now(), updated_at = now() WHERE id = $1 AND state = 'pending'`, [
    fileId,
  ]);
}

/** What a fs part PUT is checked against: the upload's state, its session's, its expiry. */
export async function findPartTarget(
  pool: Pool,
  storeUploadId: string,
  objectKey: string,
): Promise<{ state: TMultipartState; sessionState: string; expired: boolean } | null> {
  const result = await pool.query<TRowOf<"multipart_uploads", "state"> & { session_state: SessionState; expired: boolean }>(
    `SELECT m.state::text AS state, s.state::text AS session_state, m.expires_at < now() AS expired
     FROM multipart_uploads m JOIN sessions s ON s.id = m.session_id WHERE m.store_upload_id = $1 AND m.object_key = $2`,
    [storeUploadId, objectKey],
  );
  const row = result.rows[0];
  return row ? { state: row.state, sessionState: row.session_state, expired: row.expired } : null;
}
