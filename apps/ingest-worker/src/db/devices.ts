import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { sql } from "kysely";

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

/** Refused requests counted per device, error code and hour (the hour they were refused in). */
export type TRefusalCounts = Map<string, number>;

export const refusalKey = (serial: string, code: string, hour: Date) => `${serial}\u0000${code}\u0000${hour.toISOString()}`;

/**
 * Adds refusal counts to request_refusals in one statement (the overview's "refused requests by
 * code"); called every few seconds like touchDevices, so a refusal never waits on it. Unknown
 * devices are not counted (their serial has no row to hang on).
 */
export async function recordRefusals(pool: Pool, counts: TRefusalCounts): Promise<void> {
  if (counts.size === 0) return;
  const entries = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, n]) => [...key.split("\u0000"), n] as const);
  const [serials, codes, hours, ns] = [0, 1, 2, 3].map((column) => entries.map((entry) => entry[column]));
  await runTyped(
    pool,
    typedSql
      .insertInto("request_refusals")
      .columns(["device_id", "project_id", "hour", "code", "count"])
      .expression(
        sql`SELECT d.id, d.project_id, v.hour, v.code, v.n
          FROM unnest(${serials}::text[], ${codes}::text[], ${hours}::timestamptz[], ${ns}::int[]) AS v(serial, code, hour, n)
          JOIN devices d ON d.serial = v.serial`,
      )
      .onConflict((conflict) =>
        conflict
          .columns(["device_id", "hour", "code"])
          .doUpdateSet((eb) => ({ count: eb("request_refusals.count", "+", eb.ref("excluded.count")) })),
      ),
    { name: "fleetdrop_record_refusals" },
  );
}
