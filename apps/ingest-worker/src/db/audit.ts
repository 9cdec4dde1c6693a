import { runTyped, typedSql } from "@fleetdrop/db/kysely";
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
  await runTyped(
    pool,
    typedSql.insertInto("audit_log").values({
      project_id: entry.projectId,
      actor_type: "device",
      actor_label: entry.deviceId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: entry.details === undefined || entry.details === null ? null : JSON.stringify(entry.details),
    }),
  );
}
