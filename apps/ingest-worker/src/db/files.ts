/** File state transitions recorded by the worker (completion and expiry). */
import type { Pool } from "@fleetdrop/db/pool";

export type TStoredObject = {
  deviceId: string;
  sessionId: number;
  filename: string;
  objectKey: string;
  size: number;
  etag: string;
  contentType: string | undefined;
};

/**
 * Marks a session file uploaded with what storage reports. If no row exists (storage holds an
 * object whose form the database never recorded), it is created — but only when the session
 * really belongs to the device the key names. Returns null when it does not.
 */
export async function markFileUploaded(pool: Pool, object: TStoredObject): Promise<{ fileId: string; changed: boolean } | null> {
  const result = await pool.query<{ id: string; changed: boolean }>({
    name: "fleetdrop_mark_uploaded",
    text: /* sql */ `
      WITH target AS (
        SELECT s.id FROM sessions s JOIN devices d ON d.id = s.device_id WHERE s.id = $1 AND d.serial = $2
      ),
      before AS (SELECT f.state FROM files f WHERE f.session_id = $1 AND f.filename = $3)
      INSERT INTO files AS f (session_id, filename, object_key, content_type, size_limit, state, size, etag,
                              stored_content_type, uploaded_at, expires_at, next_check_at)
      SELECT target.id, $3, $4, coalesce($7, 'application/octet-stream'), $5, 'uploaded', $5, $6, $7, now(), now(), now()
      FROM target
      ON CONFLICT (session_id, filename) DO UPDATE
        SET state = 'uploaded', size = EXCLUDED.size, etag = EXCLUDED.etag,
            stored_content_type = EXCLUDED.stored_content_type, uploaded_at = now(), updated_at = now()
      RETURNING f.id, coalesce((SELECT state::text FROM before), '') <> 'uploaded' AS changed`,
    values: [object.sessionId, object.deviceId, object.filename, object.objectKey, object.size, object.etag, object.contentType ?? null],
  });
  const row = result.rows[0];
  return row ? { fileId: row.id, changed: row.changed } : null;
}

export type TFileOfDevice = {
  id: string;
  state: "pending" | "uploaded" | "expired" | "failed";
  size: number | null;
  etag: string | null;
  issuedAt: Date;
};

/** The file `filename` of session `sessionId`, if that session belongs to device `deviceId`. */
export async function findFileOfDevice(
  pool: Pool,
  deviceId: string,
  sessionId: number,
  filename: string,
): Promise<TFileOfDevice | null> {
  const result = await pool.query<{ id: string; state: TFileOfDevice["state"]; size: string | null; etag: string | null; issued_at: Date }>({
    name: "fleetdrop_find_file_of_device",
    text: /* sql */ `
      SELECT f.id, f.state::text AS state, f.size, f.etag, f.issued_at
      FROM files f JOIN sessions s ON s.id = f.session_id JOIN devices d ON d.id = s.device_id
      WHERE f.session_id = $1 AND f.filename = $2 AND d.serial = $3`,
    values: [sessionId, filename, deviceId],
  });
  const row = result.rows[0];
  if (!row) return null;
  return { id: row.id, state: row.state, size: row.size === null ? null : Number(row.size), etag: row.etag, issuedAt: row.issued_at };
}

export async function countPendingFiles(pool: Pool): Promise<number> {
  const result = await pool.query<{ n: string }>("SELECT count(*) AS n FROM files WHERE state = 'pending'");
  return Number(result.rows[0]?.n ?? 0);
}
