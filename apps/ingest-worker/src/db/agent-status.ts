import type { Pool } from "@fleetdrop/db/pool";

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
  const result = await pool.query<{ reported_at: Date }>({
    name: "fleetdrop_store_agent_status",
    text: /* sql */ `
      INSERT INTO device_agent_status (device_id, backlog_files, backlog_bytes, oldest_waiting_at, last_error, last_error_at, reported_at)
      VALUES ($1, $2, $3, $4, $5, $6, now())
      ON CONFLICT (device_id) DO UPDATE SET
        backlog_files = EXCLUDED.backlog_files, backlog_bytes = EXCLUDED.backlog_bytes,
        oldest_waiting_at = EXCLUDED.oldest_waiting_at, last_error = EXCLUDED.last_error,
        last_error_at = EXCLUDED.last_error_at, reported_at = EXCLUDED.reported_at
      RETURNING reported_at`,
    values: [row.deviceUuid, row.backlogFiles, row.backlogBytes, row.oldestWaitingAt, row.lastError, row.lastErrorAt],
  });
  return result.rows[0]!.reported_at;
}
