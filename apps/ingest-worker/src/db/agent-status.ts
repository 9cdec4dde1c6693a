import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { sql } from "kysely";

export type TAgentStatusRow = {
  deviceUuid: string;
  backlogFiles: number;
  backlogBytes: number;
  oldestWaitingAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
};

/** Replaces the device's last agent report; returns when the platform stored it. */
export async function storeAgentStatus(pool: Pool, row: TAgentStatusRow): Promise<Date> {
  const result = await runTyped(
    pool,
    typedSql
      .insertInto("device_agent_status")
      .values({
        device_id: row.deviceUuid,
        backlog_files: row.backlogFiles,
        backlog_bytes: row.backlogBytes,
        oldest_waiting_at: row.oldestWaitingAt,
        last_error: row.lastError,
        last_error_at: row.lastErrorAt,
        reported_at: sql<Date>`now()`,
      })
      .onConflict((conflict) =>
        conflict.column("device_id").doUpdateSet((eb) => ({
          backlog_files: eb.ref("excluded.backlog_files"),
          backlog_bytes: eb.ref("excluded.backlog_bytes"),
          oldest_waiting_at: eb.ref("excluded.oldest_waiting_at"),
          last_error: eb.ref("excluded.last_error"),
          last_error_at: eb.ref("excluded.last_error_at"),
          reported_at: eb.ref("excluded.reported_at"),
        })),
      )
      .returning("reported_at"),
    { name: "fleetdrop_store_agent_status" },
  );
  return result.rows[0]!.reported_at;
}
