import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";

export type TDeviceRecord = {
  id: string;
  enabled: boolean;
  projectId: string;
  devicesManageSessions: boolean;
};

export async function findDevice(pool: Pool, serial: string): Promise<TDeviceRecord | null> {
  const result = await runTyped(
    pool,
    typedSql
      .selectFrom("devices as d")
      .innerJoin("projects as p", "p.id", "d.project_id")
      .select(["d.id", "d.enabled", "d.project_id", "p.devices_manage_sessions"])
      .where("d.serial", "=", serial),
    { name: "fleetdrop_find_device" },
  );
  const row = result.rows[0];
  return row ? { id: row.id, enabled: row.enabled, projectId: row.project_id, devicesManageSessions: row.devices_manage_sessions } : null;
}

/**
 * Records "last seen" for devices in one statement, in a stable lock order; called every few
 * seconds with the devices heard from since, so requests never wait on it.
 */
export async function touchDevices(pool: Pool, seen: Map<string, Date>): Promise<void> {
  if (seen.size === 0) return;
  const serials = [...seen.keys()].sort();
  await pool.query({
    name: "fleetdrop_touch_devices",
    text: /* sql */ `
      UPDATE devices d SET last_seen_at = v.at
      FROM (SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS t(serial, at) ORDER BY serial) v
      WHERE d.serial = v.serial AND (d.last_seen_at IS NULL OR d.last_seen_at < v.at)`,
    values: [serials, serials.map((serial) => seen.get(serial))],
  });
}
