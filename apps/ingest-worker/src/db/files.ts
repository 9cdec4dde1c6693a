/** File state transitions recorded by the worker (completion and expiry). */
import { runTyped, typedSql, type TRowOf } from "@fleetdrop/db/kysely";
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import { sql } from "kysely";
import { auditDeviceAction } from "./audit";

/** An upload that started just before its form expired may still be streaming. */
export const EXPIRY_GRACE_SECONDS = 300;

/**
 * When an uploaded file's object is looked at once more: after its form stopped being accepted
 * (plus the grace an upload begun just before expiry has), if it was still valid at upload.
 */
export const REPLACEMENT_CHECK_AT =
  /* sql */ `CASE WHEN f.expires_at > now() ` + `THEN f.expires_at + interval '${EXPIRY_GRACE_SECONDS} seconds' END`;

/** The pool, or a client inside a transaction (the sweeper holds its rows locked in one). */
export type TQueryable = Pool | PoolClient;

export type TStoredObject = {
  deviceId: string;
  sessionId: number;
  filename: string;
  objectKey: string;
  size: number;
  etag: string;
  contentType: string | undefined;
  /**
   * The object's SHA-256 when known (storage reported it, or the worker hashed it). A file whose
   * request gave a SHA-256 becomes `uploaded` only with that very digest here; one recorded
   * without is due for the hasher (digests/hasher.ts).
   */
  sha256?: string | null;
};

export type TMarkedFile = {
  fileId: string;
  /** The row became `uploaded` now (it was pending, expired or missing). */
  changed: boolean;
  /**
   * The row was not written because its request gave another SHA-256 than `sha256`: storage
   * holds other bytes than the device announced (form-digest.ts discards them).
   */
  digestMismatch: boolean;
  /**
   * The row was already `uploaded` with another ETag or size: storage holds other bytes than
   * the ones recorded. The row keeps what it recorded; see {@link recordStoredObject}.
   */
  replaced: { recorded: { etag: string | null; size: number | null } } | null;
  projectId: string;
};

/**
 * Marks a session file uploaded with what storage reports. If no row exists (storage holds an
 * object whose form the database never recorded), it is created — but only when the session
 * really belongs to the device the key names. Returns null when it does not. A row already
 * `uploaded` is never rewritten: its ETag and size are what was accepted. A row whose request
 * gave a SHA-256 is written only with that SHA-256 (never with another one, nor with none).
 */
async function markFileUploaded(pool: TQueryable, object: TStoredObject): Promise<TMarkedFile | null> {
  type TFile = TRowOf<"files", "id" | "etag" | "size">;
  const result = await pool.query<{
    id: TFile["id"] | null;
    changed: boolean;
    digest_mismatch: boolean;
    replaced: boolean;
    recorded_etag: TFile["etag"];
    recorded_size: TFile["size"];
    project_id: TRowOf<"sessions", "project_id">["project_id"];
  }>({
    name: "fleetdrop_mark_uploaded",
    text: /* sql */ `
      WITH target AS (
        SELECT s.id, s.project_id FROM sessions s JOIN devices d ON d.id = s.device_id WHERE s.id = $1 AND d.serial = $2
      ),
      before AS (
        SELECT f.id, f.state, f.etag, f.size, f.expected_sha256 FROM files f JOIN target ON f.session_id = target.id WHERE f.filename = $3
      ),
      written AS (
        INSERT INTO files AS f (session_id, filename, object_key, content_type, size_limit, state, size, etag,
                                stored_content_type, uploaded_at, expires_at, next_check_at, sha256, sha256_due_at)
        SELECT target.id, $3, $4, coalesce($7, 'application/octet-stream'), $5, 'uploaded', $5, $6, $7, now(), now(), now(), $8,
               CASE WHEN $8::text IS NULL THEN now() END
        FROM target
        ON CONFLICT (session_id, filename) DO UPDATE
          SET state = 'uploaded', size = EXCLUDED.size, etag = EXCLUDED.etag,
              stored_content_type = EXCLUDED.stored_content_type, uploaded_at = now(), updated_at = now(),
              replacement_check_at = ${REPLACEMENT_CHECK_AT}, sha256 = EXCLUDED.sha256, sha256_due_at = EXCLUDED.sha256_due_at
          WHERE f.state <> 'uploaded' AND (f.expected_sha256 IS NULL OR f.expected_sha256 = EXCLUDED.sha256)
        RETURNING f.id
      )
      SELECT coalesce(written.id, before.id) AS id, target.project_id,
             written.id IS NOT NULL AS changed,
             written.id IS NULL AND before.state <> 'uploaded' AND before.expected_sha256 IS DISTINCT FROM $8::text
               AND $8::text IS NOT NULL AS digest_mismatch,
             written.id IS NULL AND before.state = 'uploaded'
               AND (before.etag IS DISTINCT FROM $6 OR before.size IS DISTINCT FROM $5::int8) AS replaced,
             before.etag AS recorded_etag, before.size AS recorded_size
      FROM target LEFT JOIN written ON true LEFT JOIN before ON true`,
    values: [
      object.sessionId,
      object.deviceId,
      object.filename,
      object.objectKey,
      object.size,
      object.etag,
      object.contentType ?? null,
      object.sha256 ?? null,
    ],
  });
  const row = result.rows[0];
  if (!row || row.id === null) return null;
  return {
    fileId: row.id,
    changed: row.changed,
    digestMismatch: row.digest_mismatch,
    replaced: row.replaced
      ? { recorded: { etag: row.recorded_etag, size: row.recorded_size === null ? null : Number(row.recorded_size) } }
      : null,
    projectId: row.project_id,
  };
}

/**
 * Records what storage holds for a session file (upload-complete, the fs endpoint's report, the
 * pending sweeper), and is where a replaced object is noticed: a file already `uploaded` whose
 * object now has another ETag or size was overwritten in storage (an S3 form used twice before
 * it expired: S3's POST Object has no conditional write). The row keeps the ETag and size it
 * recorded, and the audit log gets `file.object_replaced` with both; with bucket versioning
 * (docs/production.md) the recorded bytes remain as the previous version.
 */
export async function recordStoredObject(
  pool: TQueryable,
  object: TStoredObject,
  context: { via: "device" | "storage" | "sweeper"; log?: { warn(fields: Record<string, unknown>, message: string): void } },
): Promise<TMarkedFile | null> {
  const marked = await markFileUploaded(pool, object);
  if (marked?.replaced) {
    const details = {
      object_key: object.objectKey,
      recorded: marked.replaced.recorded,
      found: { etag: object.etag, size: object.size },
      via: context.via,
    };
    context.log?.warn(
      { key: object.objectKey, ...details },
      "storage holds other bytes than the uploaded file recorded: the object was replaced",
    );
    await auditDeviceAction(pool, {
      projectId: marked.projectId,
      deviceId: object.deviceId,
      action: "file.object_replaced",
      targetType: "file",
      targetId: marked.fileId,
      details,
    });
  }
  return marked;
}

export type TUploadTarget = {
  state: "pending" | "uploaded" | "expired" | "failed";
  issuedAt: Date;
  sessionState: string;
};

/** The file row a session object key names and its session's state; null when there is none. */
export async function findUploadTarget(
  pool: Pool,
  key: { deviceId: string; sessionId: number; filename: string },
): Promise<TUploadTarget | null> {
  const result = await runTyped(
    pool,
    typedSql
      .selectFrom("files as f")
      .innerJoin("sessions as s", "s.id", "f.session_id")
      .innerJoin("devices as d", "d.id", "s.device_id")
      .select(["f.state", "f.issued_at", "s.state as session_state"])
      .where("f.session_id", "=", key.sessionId)
      .where("f.filename", "=", key.filename)
      .where("d.serial", "=", key.deviceId),
    { name: "fleetdrop_find_upload_target" },
  );
  const row = result.rows[0];
  return row ? { state: row.state, issuedAt: row.issued_at, sessionState: row.session_state } : null;
}

export type TFileOfDevice = {
  id: string;
  state: "pending" | "uploaded" | "expired" | "failed";
  size: number | null;
  etag: string | null;
  issuedAt: Date;
  /** The SHA-256 the upload request gave (the stored object must have it). */
  expectedSha256: string | null;
};

/** The file `filename` of session `sessionId`, if that session belongs to device `deviceId`. */
export async function findFileOfDevice(pool: Pool, deviceId: string, sessionId: number, filename: string): Promise<TFileOfDevice | null> {
  const result = await runTyped(
    pool,
    typedSql
      .selectFrom("files as f")
      .innerJoin("sessions as s", "s.id", "f.session_id")
      .innerJoin("devices as d", "d.id", "s.device_id")
      .select(["f.id", "f.state", "f.size", "f.etag", "f.issued_at", "f.expected_sha256"])
      .where("f.session_id", "=", sessionId)
      .where("f.filename", "=", filename)
      .where("d.serial", "=", deviceId),
    { name: "fleetdrop_find_file_of_device" },
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    id: row.id,
    state: row.state,
    size: row.size === null ? null : Number(row.size),
    etag: row.etag,
    issuedAt: row.issued_at,
    expectedSha256: row.expected_sha256,
  };
}

export async function countPendingFiles(pool: Pool): Promise<number> {
  const result = await runTyped(
    pool,
    typedSql
      .selectFrom("files")
      .select(sql<string>`count(*)`.as("n"))
      .where("state", "=", "pending"),
  );
  return Number(result.rows[0]?.n ?? 0);
}
