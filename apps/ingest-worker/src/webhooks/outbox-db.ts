/**
 * SQL of the webhook outbox (docs/api.md#webhooks) (tables webhook_deliveries, webhook_lanes,
 * webhook_events, webhook_attempts). Events and their deliveries are written by
 * fleetdrop_enqueue_event in the transaction of the change; this file leases lanes, reads their
 * pending deliveries in order, and records each attempt for the delivery log.
 */
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import type { TWebhookEventType } from "@fleetdrop/shared/webhooks/events";

export type TWebhookLane = {
  endpointId: string;
  laneKey: string;
  url: string;
  secret: string;
  maxAttempts: number;
  timeoutMs: number;
  projectId: string;
  projectSlug: string;
};

export type TPendingDelivery = {
  id: string;
  attempts: number;
  eventId: string;
  type: string;
  createdAt: Date;
  deviceSerial: string | null;
  data: Record<string, unknown>;
};

/**
 * Writes an event in the caller's transaction (`tx` is a client inside BEGIN … COMMIT, or the
 * pool for a change that is one statement): it is delivered if and only if that transaction
 * commits. Nothing is written when no enabled endpoint of the project wants `type`. Returns the
 * event id (null when nothing wanted it).
 */
export async function enqueueEvent(
  tx: Pool | PoolClient,
  input: { projectId: string; deviceId: string | null; type: TWebhookEventType; data: Record<string, unknown> },
): Promise<string | null> {
  const result = await tx.query<{ id: string | null }>({
    name: "fleetdrop_webhook_enqueue",
    text: "SELECT fleetdrop_enqueue_event($1::uuid, $2::uuid, $3, $4::jsonb) AS id",
    values: [input.projectId, input.deviceId, input.type, JSON.stringify(input.data)],
  });
  return result.rows[0]?.id ?? null;
}

export async function leaseWebhookLanes(pool: Pool, owner: string, leaseMs: number, limit: number): Promise<TWebhookLane[]> {
  const result = await pool.query<{
    endpoint_id: string;
    lane_key: string;
    url: string;
    secret: string;
    max_attempts: number;
    timeout_ms: number;
    project_id: string;
    slug: string;
  }>({
    name: "fleetdrop_webhook_lease",
    text: /* sql */ `
      WITH due AS (
        SELECT l.endpoint_id, l.lane_key FROM webhook_lanes l
        JOIN webhook_endpoints e ON e.id = l.endpoint_id AND e.enabled
        WHERE l.next_attempt_at <= now() AND (l.lease_until IS NULL OR l.lease_until < now())
          AND EXISTS (SELECT 1 FROM webhook_deliveries d
                       WHERE d.endpoint_id = l.endpoint_id AND d.lane_key = l.lane_key AND d.state = 'pending')
        ORDER BY l.next_attempt_at
        LIMIT $3
        FOR UPDATE OF l SKIP LOCKED
      ),
      leased AS (
        UPDATE webhook_lanes l SET lease_until = now() + make_interval(secs => $2::float8 / 1000), lease_owner = $1
        FROM due WHERE l.endpoint_id = due.endpoint_id AND l.lane_key = due.lane_key
        RETURNING l.endpoint_id, l.lane_key
      )
      SELECT leased.endpoint_id, leased.lane_key, e.url, e.secret, e.max_attempts, e.timeout_ms, p.id AS project_id, p.slug
      FROM leased JOIN webhook_endpoints e ON e.id = leased.endpoint_id JOIN projects p ON p.id = e.project_id
      WHERE e.enabled`,
    values: [owner, leaseMs, limit],
  });
  return result.rows.map((row) => ({
    endpointId: row.endpoint_id,
    laneKey: row.lane_key,
    url: row.url,
    secret: row.secret,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    projectId: row.project_id,
    projectSlug: row.slug,
  }));
}

/** How long nextDeliveries waits, in all, for a lane's open writers before it reports the lane empty for now. */
const BUSY_WAITS_MS = [5, 10, 20, 40, 80, 160];

/**
 * A lane's next pending deliveries, in order. Read only when no transaction that writes to the
 * lane is still open (fleetdrop_webhook_next, migration 20261207210000_webhook_lane_order), so an
 * earlier event that commits after a later one is never skipped or overtaken. While one is open
 * it waits a little; if it stays open, it answers nothing and the lane is leased again later.
 */
export async function nextDeliveries(pool: Pool, lane: TWebhookLane, limit: number): Promise<TPendingDelivery[]> {
  for (let attempt = 0; ; attempt++) {
    const result = await pool.query<{
      id: string | null;
      attempts: number;
      event_id: string;
      type: string;
      created_at: Date;
      device_serial: string | null;
      data: Record<string, unknown>;
    }>({
      name: "fleetdrop_webhook_next",
      text: "SELECT id::text AS id, attempts, event_id, type, created_at, device_serial, data FROM fleetdrop_webhook_next($1, $2, $3)",
      values: [lane.endpointId, lane.laneKey, limit],
    });
    const busy = result.rows.length === 1 && result.rows[0]!.id === null;
    if (busy) {
      const wait = BUSY_WAITS_MS[attempt];
      if (wait === undefined) return [];
      await new Promise((resolve) => setTimeout(resolve, wait));
      continue;
    }
    return result.rows.map((row) => ({
      id: row.id!,
      attempts: row.attempts,
      eventId: row.event_id,
      type: row.type,
      createdAt: row.created_at,
      deviceSerial: row.device_serial,
      data: row.data,
    }));
  }
}

/** Marks deliveries delivered, logs their successful attempts, renews the lease. */
export async function markWebhooksDelivered(
  pool: Pool,
  lane: TWebhookLane,
  items: { id: string; status: number; durationMs: number }[],
  owner: string,
  leaseMs: number,
): Promise<void> {
  if (items.length === 0) return;
  await pool.query({
    name: "fleetdrop_webhook_delivered",
    text: /* sql */ `
      WITH input AS (SELECT * FROM unnest($3::int8[], $4::int4[], $5::int4[]) AS i(id, status, duration_ms)),
      done AS (
        UPDATE webhook_deliveries d SET state = 'delivered', attempts = d.attempts + 1, last_status = i.status, last_error = NULL,
               delivered_at = now()
        FROM input i WHERE d.id = i.id RETURNING d.id
      ),
      logged AS (INSERT INTO webhook_attempts (delivery_id, status, duration_ms) SELECT id, status, duration_ms FROM input)
      UPDATE webhook_lanes SET delivered_count = delivered_count + (SELECT count(*) FROM done), last_delivered_at = now(),
             last_attempt_at = now(), last_error = NULL,
             lease_until = CASE WHEN lease_owner = $6 THEN now() + make_interval(secs => $7::float8 / 1000) ELSE lease_until END
      WHERE endpoint_id = $1 AND lane_key = $2`,
    values: [
      lane.endpointId,
      lane.laneKey,
      items.map((item) => item.id),
      items.map((item) => item.status),
      items.map((item) => item.durationMs),
      owner,
      leaseMs,
    ],
  });
}

export async function recordWebhookFailure(
  pool: Pool,
  input: {
    lane: TWebhookLane;
    deliveryId: string;
    error: string;
    status: number | null;
    durationMs: number;
    park: boolean;
    retryAt: Date | null;
  },
): Promise<void> {
  await pool.query({
    name: "fleetdrop_webhook_failed",
    text: /* sql */ `
      WITH delivery AS (
        UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $4, last_status = $5,
               state = CASE WHEN $6 THEN 'parked'::webhook_delivery_state ELSE state END,
               parked_at = CASE WHEN $6 THEN now() ELSE parked_at END
        WHERE id = $3 RETURNING id
      ),
      logged AS (INSERT INTO webhook_attempts (delivery_id, status, error, duration_ms) SELECT id, $5, $4, $8 FROM delivery)
      UPDATE webhook_lanes SET last_error = $4, last_attempt_at = now(), next_attempt_at = coalesce($7::timestamptz, now())
      WHERE endpoint_id = $1 AND lane_key = $2`,
    values: [
      input.lane.endpointId,
      input.lane.laneKey,
      input.deliveryId,
      input.error.slice(0, 1000),
      input.status,
      input.park,
      input.retryAt,
      input.durationMs,
    ],
  });
}

export async function releaseWebhookLane(pool: Pool, lane: TWebhookLane, owner: string): Promise<void> {
  await pool.query({
    name: "fleetdrop_webhook_release",
    text: "UPDATE webhook_lanes SET lease_until = NULL, lease_owner = NULL WHERE endpoint_id = $1 AND lane_key = $2 AND lease_owner = $3",
    values: [lane.endpointId, lane.laneKey, owner],
  });
}
