/**
 * Validates a batch of upload requests and records their files in ONE statement: device known
 * and enabled, session exists, belongs to the device and is open, then insert-or-refresh the
 * pending file row. Duplicate requests for the same file (QoS 1 re-delivery, or a device asking
 * again) resolve to the same row.
 */
import type { Pool } from "@fleetdrop/db/pool";

export type TUploadRow = {
  deviceId: string;
  sessionId: number;
  filename: string;
  objectKey: string;
  contentType: string;
  sizeLimit: number;
  requestId: string | null;
  overwrite: boolean;
  expiresAt: Date;
  /** When the sweeper should first ask storage about the file. */
  firstCheckAt: Date;
};

export type TUploadOutcome =
  | { ok: true; fileId: string }
  | {
      ok: false;
      code: "device_unknown" | "device_disabled" | "session_not_found" | "session_not_owned" | "session_closed" | "file_exists";
    };

const SQL = /* sql */ `
WITH req AS (
  SELECT *
  FROM ROWS FROM (json_to_recordset($1::json) AS (
         serial text, session_id int, filename text, object_key text, content_type text, size_limit int8,
         request_id text, overwrite bool, expires_at timestamptz, check_at timestamptz))
       WITH ORDINALITY AS r(serial, session_id, filename, object_key, content_type, size_limit, request_id, overwrite, expires_at, check_at, ord)
),
ctx AS (
  SELECT r.*, d.id AS device_uuid, d.enabled, s.id AS sid, s.device_id AS session_device, s.state AS session_state
  FROM req r
  LEFT JOIN devices d ON d.serial = r.serial
  LEFT JOIN sessions s ON s.id = r.session_id
),
accepted AS (
  -- One row per file: the last request of the batch for a file wins.
  SELECT DISTINCT ON (sid, filename) *
  FROM ctx
  WHERE device_uuid IS NOT NULL AND enabled AND sid IS NOT NULL
    AND session_device = device_uuid AND session_state = 'open'
  ORDER BY sid, filename, ord DESC
),
fresh AS (
  INSERT INTO files AS f (session_id, filename, object_key, content_type, size_limit, state, request_id, expires_at, next_check_at)
  SELECT sid, filename, object_key, content_type, size_limit, 'pending', request_id, expires_at, check_at
  FROM accepted WHERE NOT overwrite
  ORDER BY sid, filename
  ON CONFLICT (session_id, filename) DO UPDATE
    SET content_type = EXCLUDED.content_type, size_limit = EXCLUDED.size_limit, state = 'pending',
        request_id = EXCLUDED.request_id, expires_at = EXCLUDED.expires_at, next_check_at = EXCLUDED.next_check_at,
        issued_at = now(), updated_at = now()
    WHERE f.state <> 'uploaded'
  RETURNING f.id, f.session_id, f.filename
),
replaced AS (
  INSERT INTO files AS f (session_id, filename, object_key, content_type, size_limit, state, request_id, expires_at, next_check_at)
  SELECT sid, filename, object_key, content_type, size_limit, 'pending', request_id, expires_at, check_at
  FROM accepted WHERE overwrite
  ORDER BY sid, filename
  ON CONFLICT (session_id, filename) DO UPDATE
    SET content_type = EXCLUDED.content_type, size_limit = EXCLUDED.size_limit, state = 'pending',
        request_id = EXCLUDED.request_id, expires_at = EXCLUDED.expires_at, next_check_at = EXCLUDED.next_check_at,
        issued_at = now(), updated_at = now()
  RETURNING f.id, f.session_id, f.filename
),
written AS (SELECT * FROM fresh UNION ALL SELECT * FROM replaced)
SELECT c.ord, c.device_uuid IS NOT NULL AS device_found, c.enabled, c.sid IS NOT NULL AS session_found,
       c.session_device = c.device_uuid AS owned, c.session_state::text AS session_state, w.id AS file_id
FROM ctx c
LEFT JOIN written w ON w.session_id = c.sid AND w.filename = c.filename
ORDER BY c.ord`;

type TResultRow = {
  device_found: boolean;
  enabled: boolean | null;
  session_found: boolean;
  owned: boolean | null;
  session_state: string | null;
  file_id: string | null;
};

export async function recordUploadRequests(pool: Pool, rows: TUploadRow[]): Promise<TUploadOutcome[]> {
  // One JSON document for the whole batch: node-pg would otherwise escape every element of ten
  // text arrays in JavaScript (a few µs per request at thousands of requests a second).
  const batch = JSON.stringify(
    rows.map((r) => ({
      serial: r.deviceId,
      session_id: r.sessionId,
      filename: r.filename,
      object_key: r.objectKey,
      content_type: r.contentType,
      size_limit: r.sizeLimit,
      request_id: r.requestId,
      overwrite: r.overwrite,
      expires_at: r.expiresAt,
      check_at: r.firstCheckAt,
    })),
  );
  const result = await pool.query<TResultRow>({ name: "fleetdrop_record_uploads", text: SQL, values: [batch] });
  return result.rows.map(toOutcome);
}

function toOutcome(row: TResultRow): TUploadOutcome {
  if (!row.device_found) return { ok: false, code: "device_unknown" };
  if (!row.enabled) return { ok: false, code: "device_disabled" };
  if (!row.session_found) return { ok: false, code: "session_not_found" };
  if (!row.owned) return { ok: false, code: "session_not_owned" };
  if (row.session_state !== "open") return { ok: false, code: "session_closed" };
  if (!row.file_id) return { ok: false, code: "file_exists" };
  return { ok: true, fileId: row.file_id };
}
