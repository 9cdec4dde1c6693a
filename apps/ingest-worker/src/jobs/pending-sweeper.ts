/**
 * Completion of session uploads (docs/protocol.md#file_uploadcomplete): finds pending files whose
 * check is due, asks storage whether the object arrived, and records `uploaded`, `expired` (form
 * expired unused; a file set pending to be replaced that never was is `uploaded` again, as it
 * was) or the next check (backing off: a file is checked again after as long as it has already
 * waited, but never later than `recheckMaxMs`). Safe with several workers: rows are claimed with
 * FOR UPDATE SKIP LOCKED.
 *
 * Recovery: an object stored while its completion could not be recorded (the worker crashed
 * between the two, or PostgreSQL was down) leaves its file pending. Every pending file is
 * checked at least every `recheckMaxMs`, and the sweeper runs at start and right after a failed
 * run succeeds again, so such a file is recorded within recheckMaxMs + the sweeper's interval
 * (PENDING_RECOVERY_SECONDS). Work is bounded: a pass claims at most BATCH files (one
 * transaction, its connection released after it); a run goes on with passes while they come
 * back full, for at most RUN_BUDGET_MS, so a backlog after a long outage is worked off at
 * storage's speed and a stopping worker waits for one pass at most that long.
 */
import { runTyped, typedSql, type TRowOf } from "@fleetdrop/db/kysely";
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";
import { sql } from "kysely";
import { EXPIRY_GRACE_SECONDS, recordStoredObject, REPLACEMENT_CHECK_AT } from "../db/files";
import { digestToRecord } from "../digests/form-digest";
import type { TObjectHasher } from "../digests/hasher";
import { discardMismatchedObject } from "../digests/mismatch";
import { withTransaction } from "../db/transaction";
import type { Logger } from "../logger";
import type { TWorkerMetrics } from "../metrics";

/** The longest a pending file waits for its next check by default (PENDING_RECOVERY_SECONDS − SWEEP_INTERVAL_SECONDS). */
export const DEFAULT_RECHECK_MAX_MS = 50_000;
const BATCH = 200;
const RUN_BUDGET_MS = 10_000;
/** Rows a run pulls forward at most (they are due within recheckMaxMs: runs after it take the rest). */
const PULL_FORWARD_LIMIT = 5000;
const HEAD_CONCURRENCY = 8;
const STORAGE_RETRY_MS = 60_000;

type TDue = TRowOf<"files", "id" | "object_key" | "issued_at" | "expires_at" | "expected_sha256" | "etag"> & { size: number | null };

/** Moves a pending file's next look at storage to `at`. */
async function checkAgainAt(client: PoolClient, fileId: string, at: Date): Promise<void> {
  await runTyped(client, typedSql.updateTable("files").set({ next_check_at: at }).where("id", "=", fileId));
}

export type TSweepResult = {
  checked: number;
  uploaded: number;
  expired: number;
  deferred: number;
  replaced: number;
  /** Stored with another SHA-256 than the request gave: deleted, the file `failed`. */
  failed: number;
};

export type TSweepDeps = {
  pool: Pool;
  store: Store;
  metrics?: TWorkerMetrics;
  log?: Logger;
  recheckMaxMs?: number;
  /** Computes the SHA-256 of files recorded without one (storage reported none). */
  hasher?: TObjectHasher;
};

const emptyResult = (): TSweepResult => ({ checked: 0, uploaded: 0, expired: 0, deferred: 0, replaced: 0, failed: 0 });

/** One run: passes of at most BATCH files while the last one was full, within RUN_BUDGET_MS. */
export async function sweepPendingFiles(deps: TSweepDeps): Promise<TSweepResult> {
  const recheckMaxMs = deps.recheckMaxMs ?? DEFAULT_RECHECK_MAX_MS;
  const deadline = Date.now() + RUN_BUDGET_MS;
  await pullChecksForward(deps.pool, recheckMaxMs);
  const total = emptyResult();
  const add = (result: TSweepResult) => {
    for (const key of Object.keys(total) as (keyof TSweepResult)[]) total[key] += result[key];
  };
  for (;;) {
    const result = await sweepPass(deps, recheckMaxMs);
    add(result);
    if (result.checked < BATCH || Date.now() >= deadline) break;
  }
  for (;;) {
    const result = await replacementPass(deps);
    add(result);
    if (result.checked < BATCH || Date.now() >= deadline) break;
  }
  return total;
}

/**
 * Files whose next check lies further out than recheckMaxMs (set by an older version, or before
 * the setting was lowered) are brought within it. Normally matches nothing (an index range).
 */
async function pullChecksForward(pool: Pool, recheckMaxMs: number): Promise<void> {
  await pool.query(
    `UPDATE files SET next_check_at = now() + $1 * interval '1 millisecond'
     WHERE id IN (SELECT id FROM files WHERE state = 'pending' AND next_check_at > now() + $1 * interval '1 millisecond'
                  LIMIT ${PULL_FORWARD_LIMIT} FOR UPDATE SKIP LOCKED)`,
    [recheckMaxMs],
  );
}

async function sweepPass(deps: TSweepDeps, recheckMaxMs: number): Promise<TSweepResult> {
  // Files recorded without a digest are due for the hasher once their rows are committed.
  let unhashed = 0;
  const passResult = await withTransaction(deps.pool, async (client) => {
    const result = emptyResult();
    const due = await client.query<TDue>(
      `SELECT id, object_key, issued_at, expires_at, expected_sha256, etag, size::float8 AS size FROM files
       WHERE state = 'pending' AND next_check_at <= now()
       ORDER BY next_check_at LIMIT ${BATCH}
       FOR UPDATE SKIP LOCKED`,
    );
    const queue = [...due.rows];
    const workers = Array.from({ length: Math.min(HEAD_CONCURRENCY, queue.length) }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        result.checked++;
        let info;
        let arrived = false;
        let sha256: string | null = null;
        try {
          info = await deps.store.head(file.object_key);
          arrived = info !== null && info.lastModified.getTime() >= file.issued_at.getTime() - 5000;
          // A digest the request gave is checked before the file is recorded: with a store that
          // reports none, by reading the object here (other workers skip the locked row meanwhile).
          if (arrived) sha256 = await digestToRecord(deps.store, file.object_key, info?.sha256, file.expected_sha256);
        } catch (error) {
          deps.log?.warn({ err: error, key: file.object_key }, "storage did not answer; checking again later");
          await checkAgainAt(client, file.id, new Date(Date.now() + Math.min(STORAGE_RETRY_MS, recheckMaxMs)));
          result.deferred++;
          continue;
        }
        const expected = file.expected_sha256;
        if (info && arrived && expected !== null && sha256 !== null && sha256 !== expected) {
          deps.log?.warn(
            { key: file.object_key, file: file.id, sha256 },
            "storage holds other bytes than the SHA-256 the device gave: discarded",
          );
          await discardMismatchedObject(client, deps.store, file.id, file.object_key);
          result.failed++;
          deps.metrics?.filesCompleted.inc({ state: "failed", via: "sweeper" });
        } else if (info && arrived && (expected === null || sha256 === expected)) {
          await client.query(
            `UPDATE files AS f SET state = 'uploaded', size = $2, etag = $3, stored_content_type = $4,
                    uploaded_at = $5, updated_at = now(), replacement_check_at = ${REPLACEMENT_CHECK_AT}, sha256 = $6,
                    sha256_due_at = CASE WHEN $6::text IS NULL THEN now() END WHERE id = $1`,
            [file.id, info.size, info.etag, info.contentType ?? null, info.lastModified, sha256],
          );
          if (sha256 === null) unhashed++;
          result.uploaded++;
          deps.metrics?.filesCompleted.inc({ state: "uploaded", via: "sweeper" });
        } else if (Date.now() > file.expires_at.getTime() + EXPIRY_GRACE_SECONDS * 1000 && info && isRecorded(file, info)) {
          // A file set pending to be replaced (an overwrite) that never was: storage still holds the
          // bytes the row recorded, so the file is what it was. Its digest, cleared for the
          // replacement, is due for the hasher again.
          await runTyped(
            client,
            typedSql
              .updateTable("files")
              .set({
                state: "uploaded",
                updated_at: sql<Date>`now()`,
                sha256_due_at: sql<Date | null>`CASE WHEN sha256 IS NULL THEN now() ELSE sha256_due_at END`,
              })
              .where("id", "=", file.id),
          );
          unhashed++;
          result.uploaded++;
          deps.metrics?.filesCompleted.inc({ state: "uploaded", via: "sweeper" });
        } else if (Date.now() > file.expires_at.getTime() + EXPIRY_GRACE_SECONDS * 1000) {
          await runTyped(
            client,
            typedSql
              .updateTable("files")
              .set({ state: "expired", updated_at: sql<Date>`now()` })
              .where("id", "=", file.id),
          );
          result.expired++;
          deps.metrics?.filesCompleted.inc({ state: "expired", via: "sweeper" });
        } else {
          const waited = Math.min(recheckMaxMs, Math.max(30_000, Date.now() - file.issued_at.getTime()));
          const finalCheck = file.expires_at.getTime() + EXPIRY_GRACE_SECONDS * 1000 + 1000;
          await checkAgainAt(client, file.id, new Date(Math.min(Date.now() + waited, finalCheck)));
          result.deferred++;
        }
      }
    });
    await Promise.all(workers);
    return result;
  });
  if (unhashed > 0) deps.hasher?.poke();
  return passResult;
}

/** Storage holds the very object the row recorded when it was last uploaded (same ETag and size). */
function isRecorded(file: TDue, info: { etag: string; size: number }): boolean {
  return file.etag !== null && file.etag === info.etag && file.size === info.size;
}

type TUploadedDue = TRowOf<"files", "id" | "object_key" | "filename" | "session_id"> & TRowOf<"devices", "serial">;

/**
 * Uploaded files whose form could still be used when they arrived are looked at once after it
 * expired: on S3 a second POST of the form replaces the object unseen (POST Object has no
 * conditional write), and recordStoredObject keeps the recorded ETag and audits the replacement.
 */
async function replacementPass(deps: TSweepDeps): Promise<TSweepResult> {
  return withTransaction(deps.pool, async (client) => {
    const result = emptyResult();
    const due = await client.query<TUploadedDue>(
      `SELECT f.id, f.object_key, f.filename, f.session_id, d.serial
       FROM files f JOIN sessions s ON s.id = f.session_id JOIN devices d ON d.id = s.device_id
       WHERE f.replacement_check_at <= now() AND f.state = 'uploaded'
       ORDER BY f.replacement_check_at LIMIT ${BATCH}
       FOR UPDATE OF f SKIP LOCKED`,
    );
    for (const file of due.rows) {
      result.checked++;
      let info;
      try {
        info = await deps.store.head(file.object_key);
      } catch (error) {
        deps.log?.warn({ err: error, key: file.object_key }, "storage did not answer; checking the uploaded file again later");
        await runTyped(
          client,
          typedSql
            .updateTable("files")
            .set({ replacement_check_at: sql<Date>`now() + ${STORAGE_RETRY_MS} * interval '1 millisecond'` })
            .where("id", "=", file.id),
        );
        result.deferred++;
        continue;
      }
      if (info) {
        const marked = await recordStoredObject(
          client,
          {
            deviceId: file.serial,
            sessionId: file.session_id,
            filename: file.filename,
            objectKey: file.object_key,
            size: info.size,
            etag: info.etag,
            contentType: info.contentType,
          },
          { via: "sweeper", log: deps.log },
        );
        if (marked?.replaced) result.replaced++;
      }
      await runTyped(client, typedSql.updateTable("files").set({ replacement_check_at: null }).where("id", "=", file.id));
    }
    return result;
  });
}
