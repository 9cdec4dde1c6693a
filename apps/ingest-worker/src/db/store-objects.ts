/** Audit rows of named-store objects: uploads by devices and their status reports (docs/protocol.md#stores). */
import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { sql } from "kysely";

/** True when this very version of the object (same ETag) was already recorded. */
export async function storeUploadRecorded(pool: Pool, targetId: string, etag: string): Promise<boolean> {
  const result = await runTyped(
    pool,
    typedSql
      .selectFrom("audit_log")
      .select(sql<number>`1`.as("recorded"))
      .where("action", "=", "store.upload")
      .where("target_id", "=", targetId)
      .where(sql<string>`details->>'etag'`, "=", etag)
      .where("at", ">", sql<Date>`now() - interval '7 days'`)
      .limit(1),
    { name: "fleetdrop_store_upload_recorded" },
  );
  return result.rowCount > 0;
}
