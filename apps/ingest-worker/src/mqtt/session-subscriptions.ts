/**
 * What the worker's persistent session subscribes to, kept exact across restarts. MQTT has no
 * "list my subscriptions": a session resumed after MQTT_SHARED_GROUP (or the set of request
 * filters) changed would still hold the old filters, and every request would then be handled
 * twice (once per group). So the filters a session may hold are recorded in PostgreSQL under the
 * client id, and on connect the worker unsubscribes those it no longer wants before subscribing.
 *
 * What must stay true: the record is always a superset of what the broker's session holds
 * (it is widened before subscribing and narrowed only after the broker confirmed). When a
 * session is present but nothing is recorded (first start with this record, or a lost record),
 * the worker cannot know what the session holds and starts it clean instead.
 */
import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import { sql } from "kysely";
import type pg from "pg";

export type TSubscriptionRecord = {
  read(clientId: string): Promise<string[] | null>;
  write(clientId: string, filters: string[]): Promise<void>;
};

export function pgSubscriptionRecord(pool: pg.Pool): TSubscriptionRecord {
  return {
    async read(clientId) {
      const { rows } = await runTyped(
        pool,
        typedSql.selectFrom("mqtt_session_subscriptions").select("filters").where("client_id", "=", clientId),
      );
      return rows[0]?.filters ?? null;
    },
    async write(clientId, filters) {
      await runTyped(
        pool,
        typedSql
          .insertInto("mqtt_session_subscriptions")
          .values({ client_id: clientId, filters: [...new Set(filters)].sort(), updated_at: sql<Date>`now()` })
          .onConflict((conflict) =>
            conflict.column("client_id").doUpdateSet({ filters: (eb) => eb.ref("excluded.filters"), updated_at: sql<Date>`now()` }),
          ),
      );
    },
  };
}

export type TSubscriptionPlan =
  /** Nothing is known of what the present session holds: reconnect with a clean start. */
  | { action: "clean-start" }
  /** Unsubscribe `stale` (may be empty), then subscribe the wanted filters. */
  | { action: "subscribe"; stale: string[] };

/**
 * Decides what to do on connect and widens the record to cover the wanted filters (call it
 * before subscribing; call `record.write(clientId, wanted)` once the SUBACK came back).
 */
export async function planSubscriptions(options: {
  record: TSubscriptionRecord;
  clientId: string;
  sessionPresent: boolean;
  wanted: string[];
}): Promise<TSubscriptionPlan> {
  const { record, clientId, sessionPresent, wanted } = options;
  const recorded = await record.read(clientId);
  if (sessionPresent && recorded === null) return { action: "clean-start" };
  await record.write(clientId, [...(recorded ?? []), ...wanted]);
  const stale = sessionPresent ? (recorded ?? []).filter((filter) => !wanted.includes(filter)) : [];
  return { action: "subscribe", stale };
}
