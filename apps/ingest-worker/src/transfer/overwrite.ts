/**
 * A transfer begun with `overwrite` replacing the file already uploaded under its name. The new
 * object goes to the same key as the old one (`sessions/{D}/{session}/{name}`), so between
 * storing it and recording it the file row would describe bytes storage no longer holds. The
 * row is therefore set back to `pending` just before the object is stored — as an upload
 * request with `overwrite` does — and the pending sweeper (jobs/pending-sweeper.ts) settles
 * whatever a crash leaves:
 * - the new object was stored: it is newer than the row's `issued_at`, and is recorded (size,
 *   ETag; the SHA-256 is left unknown, as for a form upload);
 * - it was not: storage still holds the bytes the row recorded (same ETag and size), and the row
 *   becomes `uploaded` again once its `expires_at` has passed.
 * Without a crash, the fin records the new version (completeTransfer), or — when nothing was
 * stored (a wrong checksum, storage down) — puts the row back exactly as it was. A file put back
 * keeps its upload time and ETag, which is how the files triggers tell it from an arrival (no
 * file.uploaded event, no count in file_arrivals).
 */
import type { TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";

/** The row of the replaced file as it was, and the `issued_at` that marks it as set pending by this fin. */
export type TReopenedFile = {
  fileId: string;
  issuedAt: Date;
  recorded: { etag: string | null; size: number | null };
  previous: TRowOf<"files", "sha256" | "arrived_via" | "issued_at" | "expires_at" | "next_check_at">;
};

/**
 * Sets the uploaded file `name` of the session back to `pending` for `pendingSeconds` (longer
 * than storing the largest file takes, so the sweeper does not settle it during the fin). Null
 * when no file of that name is uploaded: there is nothing to replace.
 */
export async function reopenForOverwrite(
  pool: Pool,
  target: { sessionId: number; name: string; pendingSeconds: number },
): Promise<TReopenedFile | null> {
  type TFile = TRowOf<"files", "id" | "etag" | "sha256" | "arrived_via" | "issued_at" | "expires_at" | "next_check_at">;
  const result = await pool.query<
    TFile & {
      size: number | null;
      prev_issued_at: TFile["issued_at"];
      prev_expires_at: TFile["expires_at"];
      prev_next_check_at: TFile["next_check_at"];
    }
  >({
    name: "fleetdrop_transfer_reopen_file",
    text: /* sql */ `
      WITH before AS (
        SELECT id, sha256, arrived_via, issued_at, expires_at, next_check_at FROM files
        WHERE session_id = $1 AND filename = $2 AND state = 'uploaded'
        FOR UPDATE
      )
      UPDATE files f
        SET state = 'pending', sha256 = NULL, arrived_via = 'mqtt_transfer', issued_at = now(),
            expires_at = now() + make_interval(secs => $3), next_check_at = now() + make_interval(secs => $3), updated_at = now()
      FROM before WHERE f.id = before.id
      RETURNING f.id, f.issued_at, f.etag, f.size::float8 AS size, before.sha256, before.arrived_via,
                before.issued_at AS prev_issued_at, before.expires_at AS prev_expires_at, before.next_check_at AS prev_next_check_at`,
    values: [target.sessionId, target.name, target.pendingSeconds],
  });
  const row = result.rows[0];
  if (!row) return null;
  return {
    fileId: row.id,
    issuedAt: row.issued_at,
    recorded: { etag: row.etag, size: row.size },
    previous: {
      sha256: row.sha256,
      arrived_via: row.arrived_via,
      issued_at: row.prev_issued_at,
      expires_at: row.prev_expires_at,
      next_check_at: row.prev_next_check_at,
    },
  };
}

/**
 * After a fin that stored nothing: when storage still holds the bytes the row recorded, the row
 * is put back as it was (still set pending by this fin only). Otherwise — storage failed midway,
 * or holds other bytes — it stays pending and the sweeper records what storage holds. Returns
 * whether the row was put back.
 */
export async function restoreReopened(pool: Pool, store: Store, objectKey: string, reopened: TReopenedFile): Promise<boolean> {
  const found = await store.head(objectKey);
  if (!found || found.etag !== reopened.recorded.etag || found.size !== reopened.recorded.size) return false;
  const { previous } = reopened;
  const result = await pool.query({
    name: "fleetdrop_transfer_restore_file",
    text: /* sql */ `
      UPDATE files SET state = 'uploaded', sha256 = $3, arrived_via = $4, issued_at = $5, expires_at = $6, next_check_at = $7,
                       updated_at = now()
      WHERE id = $1 AND state = 'pending' AND issued_at = $2`,
    values: [
      reopened.fileId,
      reopened.issuedAt,
      previous.sha256,
      previous.arrived_via,
      previous.issued_at,
      previous.expires_at,
      previous.next_check_at,
    ],
  });
  return result.rowCount === 1;
}
