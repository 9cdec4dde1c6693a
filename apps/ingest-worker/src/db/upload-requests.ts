/**
 * Validates a batch of upload requests and records their files: device known and enabled,
 * session exists, belongs to the device and is open, then insert-or-refresh the pending file
 * row. Duplicate requests for the same file (QoS 1 re-delivery, or a device asking again)
 * resolve to the same row.
 *
 * The common case, every request valid, is one lean statement: an INSERT … SELECT that joins the
 * device and the session and returns the rows it wrote. Only the requests it did not write (a
 * refusal) are then looked at again to name the reason. Finding the reason inside the same
 * statement for every request made every batch pay for it: about 15 % more PostgreSQL CPU per
 * request, and 40–50 µs more on a lone request (`npm run bench -- upload-requests`).
 */
import type { FileState, SessionState, TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { filenameFolders } from "@fleetdrop/shared/names";
import type { TExistingFile } from "@fleetdrop/shared/protocol/common";

export type TUploadRow = {
  deviceId: string;
  sessionId: number;
  filename: string;
  /** `sessions/{device}/{session}/{filename}`: names the device, the session and the file. */
  objectKey: string;
  contentType: string;
  sizeLimit: number;
  requestId: string | null;
  overwrite: boolean;
  /** `form` (a presigned POST), `agent` when the device agent said so, `multipart` (presigned parts). */
  arrivedVia: "form" | "agent" | "multipart";
  /** The SHA-256 the request gave: the file is recorded `uploaded` only with it (files.expected_sha256). */
  expectedSha256?: string | null;
};

export type TUploadTimes = {
  /** How long the forms of the batch are valid. */
  expiresInSeconds: number;
  /** Seconds after issuing a form before the sweeper first asks storage (null: only at expiry). */
  firstCheckAfterSeconds: number | null;
};

export type TUploadRefusal =
  "device_unknown" | "device_disabled" | "session_not_found" | "session_not_owned" | "session_closed" | "file_exists" | "path_conflict";

export type TUploadOutcome =
  | { ok: true; fileId: string }
  | {
      ok: false;
      /** database_unavailable: the request kept racing a concurrent change (a retry settles it). */
      code: TUploadRefusal | "database_unavailable";
      /** With `file_exists`: the file stored under the name (the answer tells the device). */
      existing?: TExistingFile;
    };

const REFRESH = /* sql */ `
  ON CONFLICT (session_id, filename) DO UPDATE
    SET object_key = EXCLUDED.object_key, content_type = EXCLUDED.content_type, size_limit = EXCLUDED.size_limit,
        state = 'pending', request_id = EXCLUDED.request_id, expires_at = EXCLUDED.expires_at,
        next_check_at = EXCLUDED.next_check_at, issued_at = now(), updated_at = now(),
        arrived_via = EXCLUDED.arrived_via, sha256 = NULL, sha256_due_at = NULL, expected_sha256 = EXCLUDED.expected_sha256`;

const INSERT = /* sql */ `
  INSERT INTO files AS f (session_id, filename, object_key, content_type, size_limit, state, request_id, expires_at, next_check_at,
                          arrived_via, expected_sha256)
  SELECT session_id, filename, object_key, content_type, size_limit, 'pending', request_id, $2::timestamptz, $3::timestamptz,
         arrived_via, expected_sha256
  FROM valid`;

/**
 * A live file of the session (pending or uploaded) that is a folder of the requested name
 * (`folders`: lookups in the (session_id, filename) index) or lies in the folder the name would
 * be (`^@`: the SP-GiST prefix index, so a session with many files is not read whole). Expired
 * and failed rows hold nothing and clash with nothing.
 *
 * The state test is written `NOT IN ('expired', 'failed')`, which no index serves, on purpose:
 * `IN ('pending', 'uploaded')` matches the (state, next_check_at) index, and with planner
 * statistics older than the table (autovacuum off or behind) PostgreSQL combined it with the
 * session's rows and read every live file of every session on each request (4–11 ms at 100,000
 * files, growing with the table).
 */
const CLASH = /* sql */ `
  (EXISTS (SELECT 1 FROM files c
           WHERE c.session_id = s.id AND c.filename = ANY(r.folders) AND c.state NOT IN ('expired', 'failed'))
   OR EXISTS (SELECT 1 FROM files c
              WHERE c.filename ^@ (r.filename || '/') AND c.session_id = s.id AND c.state NOT IN ('expired', 'failed')))`;

/**
 * Writes the valid requests and returns (id, object_key) of each row written. A refreshed row
 * takes the new form's key, so the key always identifies the request that wrote it. Rows are
 * written in (session, filename) order so that concurrent batches lock them in the same order.
 */
const RECORD_SQL = /* sql */ `
WITH valid AS (
  SELECT s.id AS session_id, r.filename, r.object_key, r.content_type, r.size_limit, r.request_id, r.overwrite,
         r.arrived_via, r.expected_sha256
  FROM json_to_recordset($1::json) AS r(serial text, session_id int, filename text, object_key text,
                                        content_type text, size_limit int8, request_id text, overwrite bool,
                                        arrived_via text, expected_sha256 text, folders text[])
  JOIN devices d ON d.serial = r.serial AND d.enabled
  JOIN sessions s ON s.id = r.session_id AND s.device_id = d.id AND s.state = 'open'
  WHERE NOT ${CLASH}
),
fresh AS (${INSERT} WHERE NOT overwrite ORDER BY session_id, filename ${REFRESH} WHERE f.state <> 'uploaded'
  RETURNING f.id, f.object_key),
replaced AS (${INSERT} WHERE overwrite ORDER BY session_id, filename ${REFRESH}
  RETURNING f.id, f.object_key)
SELECT id, object_key FROM fresh UNION ALL SELECT id, object_key FROM replaced`;

/** Why requests were not written, in the order given. */
const DIAGNOSE_SQL = /* sql */ `
SELECT d.id IS NOT NULL AS device_found, d.enabled, s.id IS NOT NULL AS session_found,
       s.device_id = d.id AS owned, s.state::text AS session_state, f.state::text AS file_state,
       s.id IS NOT NULL AND ${CLASH} AS path_conflict,
       f.size::float8 AS file_size, f.sha256 AS file_sha256, f.uploaded_at AS file_uploaded_at
FROM ROWS FROM (json_to_recordset($1::json) AS (serial text, session_id int, filename text, folders text[]))
     WITH ORDINALITY AS r(serial, session_id, filename, folders, i)
LEFT JOIN devices d ON d.serial = r.serial
LEFT JOIN sessions s ON s.id = r.session_id
LEFT JOIN files f ON f.session_id = s.id AND f.filename = r.filename
ORDER BY r.i`;

/** A row of DIAGNOSE_SQL: the device, session and file columns are null where the LEFT JOIN found none. */
type TDiagnosis = {
  device_found: boolean;
  enabled: TRowOf<"devices", "enabled">["enabled"] | null;
  session_found: boolean;
  owned: boolean | null;
  session_state: SessionState | null;
  file_state: FileState | null;
  path_conflict: boolean;
  file_size: number | null;
  file_sha256: string | null;
  file_uploaded_at: Date | null;
};

/** A request refused by a concurrent change and valid again when looked at is written again, this many times. */
const MAX_ROUNDS = 3;

export async function recordUploadRequests(pool: Pool, rows: TUploadRow[], times: TUploadTimes): Promise<TUploadOutcome[]> {
  const outcomes = new Map<string, TUploadOutcome>();
  // One request per object key: the last one wins (it carries the latest overwrite flag).
  let pending = refuseClashesWithinBatch([...new Map(rows.map((row) => [row.objectKey, row])).values()], outcomes);
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const written = await writeRows(pool, pending, times);
    const unwritten = pending.filter((row) => {
      const fileId = written.get(row.objectKey);
      if (fileId !== undefined) outcomes.set(row.objectKey, { ok: true, fileId });
      return fileId === undefined;
    });
    if (unwritten.length === 0) break;
    const reasons = await diagnose(pool, unwritten);
    pending = unwritten.filter((row, index) => {
      const reason = reasons[index]!;
      const refusal = refusalOf(reason, row.overwrite);
      if (refusal === "file_exists") outcomes.set(row.objectKey, { ok: false, code: refusal, existing: existingOf(reason) });
      else if (refusal) outcomes.set(row.objectKey, { ok: false, code: refusal });
      return refusal === null;
    });
  }
  return rows.map((row) => outcomes.get(row.objectKey) ?? { ok: false, code: "database_unavailable" });
}

/**
 * Two requests of one batch whose names clash (`a` and `a/b.txt` in one session) cannot see each
 * other in the database: the first one stays, the later one is refused here.
 */
function refuseClashesWithinBatch(rows: TUploadRow[], outcomes: Map<string, TUploadOutcome>): TUploadRow[] {
  const seen = new Map<number, { names: Set<string>; folders: Set<string> }>();
  return rows.filter((row) => {
    const folders = filenameFolders(row.filename);
    let session = seen.get(row.sessionId);
    if (!session) seen.set(row.sessionId, (session = { names: new Set(), folders: new Set() }));
    if (session.folders.has(row.filename) || folders.some((folder) => session.names.has(folder))) {
      outcomes.set(row.objectKey, { ok: false, code: "path_conflict" });
      return false;
    }
    session.names.add(row.filename);
    for (const folder of folders) session.folders.add(folder);
    return true;
  });
}

async function writeRows(pool: Pool, rows: TUploadRow[], times: TUploadTimes): Promise<Map<string, string>> {
  const now = Date.now();
  const expiresAt = new Date(now + times.expiresInSeconds * 1000);
  const checkAt = times.firstCheckAfterSeconds === null ? expiresAt : new Date(now + times.firstCheckAfterSeconds * 1000);
  // One JSON document for the whole batch: node-pg would otherwise escape every element of
  // eight text arrays in JavaScript (a few µs per request at thousands of requests a second).
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
      arrived_via: r.arrivedVia,
      expected_sha256: r.expectedSha256 ?? null,
      folders: filenameFolders(r.filename),
    })),
  );
  const result = await pool.query<TRowOf<"files", "id" | "object_key">>({
    name: "fleetdrop_record_uploads",
    text: RECORD_SQL,
    values: [batch, expiresAt, checkAt],
  });
  return new Map(result.rows.map((row) => [row.object_key, row.id]));
}

async function diagnose(pool: Pool, rows: TUploadRow[]): Promise<TDiagnosis[]> {
  const batch = JSON.stringify(
    rows.map((r) => ({ serial: r.deviceId, session_id: r.sessionId, filename: r.filename, folders: filenameFolders(r.filename) })),
  );
  const result = await pool.query<TDiagnosis>({
    name: "fleetdrop_diagnose_uploads",
    text: DIAGNOSE_SQL,
    values: [batch],
  });
  return result.rows;
}

function existingOf(row: TDiagnosis): TExistingFile {
  return {
    size: row.file_size,
    sha256: row.file_sha256,
    uploaded_at: row.file_uploaded_at === null ? null : row.file_uploaded_at.toISOString(),
  };
}

/** The reason a request is refused now; null when it would be written now (it raced a change). */
function refusalOf(row: TDiagnosis, overwrite: boolean): TUploadRefusal | null {
  if (!row.device_found) return "device_unknown";
  if (!row.enabled) return "device_disabled";
  if (!row.session_found) return "session_not_found";
  if (!row.owned) return "session_not_owned";
  if (row.session_state !== "open") return "session_closed";
  if (row.file_state === "uploaded" && !overwrite) return "file_exists";
  if (row.path_conflict) return "path_conflict";
  return null;
}
