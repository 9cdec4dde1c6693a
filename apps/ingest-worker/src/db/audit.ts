import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import type { TAuditEvent } from "@fleetdrop/shared/audit";

/**
 * An audit entry for something a device did (shown in the dashboard's audit log). The details
 * are checked against the action's schema in @fleetdrop/shared/audit, which the dashboard reads with.
 */
export async function auditDeviceAction(
  pool: Pool | PoolClient,
  entry: { projectId: string; deviceId: string; targetType: string; targetId: string } & TAuditEvent,
): Promise<void> {
  await pool.query(
    `INSERT INTO audit_log (project_id, actor_type, actor_label, action, target_type, target_id, details)
     VALUES ($1, 'device', $2, $3, $4, $5, $6::jsonb)`,
    [
      entry.projectId,
      entry.deviceId,
      entry.action,
      entry.targetType,
      entry.targetId,
      entry.details === undefined || entry.details === null ? null : JSON.stringify(entry.details),
    ],
  );
}
