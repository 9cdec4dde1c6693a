/** Audit rows of named-store objects: uploads by devices and their status reports (docs/protocol.md#stores). */
import type { Pool } from "@fleetdrop/db/pool";

/** True when this very version of the object (same ETag) was already recorded. */
export async function storeUploadRecorded(pool: Pool, targetId: string, etag: string): Promise<boolean> {
  const result = await pool.query({
    name: "fleetdrop_store_upload_recorded",
    text: /* sql */ `
      SELECT 1 FROM audit_log
      WHERE action = 'store.upload' AND target_id = $1 AND details->>'etag' = $2 AND at > now() - interval '7 days'
      LIMIT 1`,
    values: [targetId, etag],
  });
  return (result.rowCount ?? 0) > 0;
}
