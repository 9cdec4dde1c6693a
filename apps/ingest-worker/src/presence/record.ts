/**
 * Device presence in PostgreSQL (devices.presence_*): what the worker learnt from the broker
 * about each device's connection. Every change of online/offline goes through
 * devicePresenceChanged (transition.ts), exactly once however many workers hear it: the row
 * lock orders them and only the one that flips the row reports the change.
 */
import type { TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";

export type TPresenceVia = "broker" | "device" | "expired";

export type TPresenceReport = {
  serial: string;
  online: boolean;
  via: Exclude<TPresenceVia, "expired">;
  /** When the worker heard it (the worker's clock, never the device's). */
  at: Date;
  /** An online device not heard of again within this many seconds counts as offline. */
  expirySeconds: number;
  /**
   * A retained message replayed at subscribe: it may be older than what the worker already
   * decided. It never revives a device whose presence expired; the device's next refresh does.
   */
  replayed: boolean;
};

export type TPresenceChange = {
  deviceId: string;
  serial: string;
  projectId: string;
  online: boolean;
  since: Date;
  via: TPresenceVia;
};

type TDevicePresence = TRowOf<"devices", "id" | "serial" | "project_id" | "presence_since">;

type TRow = TDevicePresence & { was_online: TRowOf<"devices", "presence_online">["presence_online"]; changed: boolean };

/** Records a report; returns the change when the device flipped (null: nothing changed, or no such device). */
export async function recordPresence(pool: Pool, report: TPresenceReport): Promise<TPresenceChange | null> {
  const { rows } = await pool.query<TRow>({
    name: "fleetdrop_record_presence",
    text: /* sql */ `
      WITH prev AS (
        SELECT id, presence_online, presence_via FROM devices WHERE serial = $1 FOR UPDATE
      )
      UPDATE devices d SET
        presence_online = $2,
        presence_since = CASE WHEN prev.presence_online IS DISTINCT FROM $2 THEN $3 ELSE d.presence_since END,
        presence_via = $4,
        presence_heard_at = $3,
        presence_expires_at = CASE WHEN $2 THEN $3 + make_interval(secs => $5) ELSE NULL END
      FROM prev
      WHERE d.id = prev.id AND NOT ($6 AND $2 AND prev.presence_via = 'expired' AND prev.presence_online IS FALSE)
      RETURNING d.id, d.serial, d.project_id, prev.presence_online AS was_online, d.presence_since,
        prev.presence_online IS DISTINCT FROM $2 AS changed`,
    values: [report.serial, report.online, report.at, report.via, report.expirySeconds, report.replayed],
  });
  const row = rows[0];
  // A device first heard of as offline did not change: it was never known online.
  if (!row || !row.changed || (row.was_online === null && !report.online)) return null;
  return {
    deviceId: row.id,
    serial: row.serial,
    projectId: row.project_id,
    online: report.online,
    // Set to the report's time when the row changed.
    since: row.presence_since!,
    via: report.via,
  };
}

/**
 * Marks offline the online devices not heard of before their expiry (a broker that crashed sends
 * no Last Will); they count as offline since their expiry.
 */
export async function expirePresence(pool: Pool): Promise<TPresenceChange[]> {
  const { rows } = await pool.query<TDevicePresence>({
    name: "fleetdrop_expire_presence",
    text: /* sql */ `
      UPDATE devices SET presence_online = false, presence_since = presence_expires_at, presence_via = 'expired',
        presence_expires_at = NULL
      WHERE presence_expires_at <= now() AND presence_online
      RETURNING id, serial, project_id, presence_since`,
  });
  return rows.map((row) => ({
    deviceId: row.id,
    serial: row.serial,
    projectId: row.project_id,
    online: false,
    // Set to presence_expires_at, which the WHERE clause requires.
    since: row.presence_since!,
    via: "expired" as const,
  }));
}
