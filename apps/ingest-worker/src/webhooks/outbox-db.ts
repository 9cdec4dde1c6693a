/**
 * SQL of the webhook outbox (docs/api.md#webhooks) (tables webhook_deliveries, webhook_lanes,
 * webhook_events, webhook_attempts). Events and their deliveries are written by
 * fleetdrop_enqueue_event in the transaction of the change; this file leases lanes, reads their
 * pending deliveries in order, and records each attempt for the delivery log.
 */
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import type { TWebhookEventType } from "@fleetdrop/shared/webhooks/events";
import { createLaneOutboxDb, LANE_OUTBOXES } from "../delivery/lane-outbox-db";

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

const outbox = createLaneOutboxDb(LANE_OUTBOXES.webhook);

const laneKey = (lane: TWebhookLane) => [lane.endpointId, lane.laneKey] as const;

export async function leaseWebhookLanes(pool: Pool, owner: string, leaseMs: number, limit: number): Promise<TWebhookLane[]> {
  const rows = await outbox.lease<{
    endpoint_id: string;
    lane_key: string;
    url: string;
    secret: string;
    max_attempts: number;
    timeout_ms: number;
    project_id: string;
    slug: string;
  }>(
    pool,
    { owner, leaseMs, limit },
    /* sql */ `
      SELECT leased.endpoint_id, leased.lane_key, e.url, e.secret, e.max_attempts, e.timeout_ms, p.id AS project_id, p.slug
      FROM leased JOIN webhook_endpoints e ON e.id = leased.endpoint_id JOIN projects p ON p.id = e.project_id
      WHERE e.enabled`,
  );
  return rows.map((row) => ({
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

/**
 * A lane's next pending deliveries, in order. Read only when no transaction that writes to the
 * lane is still open (fleetdrop_webhook_next, migration 20261207210000_webhook_lane_order), so an
 * earlier event that commits after a later one is never skipped or overtaken.
 */
export async function nextDeliveries(pool: Pool, lane: TWebhookLane, limit: number): Promise<TPendingDelivery[]> {
  const rows = await outbox.nextInOrder<{
    id: string | null;
    attempts: number;
    event_id: string;
    type: string;
    created_at: Date;
    device_serial: string | null;
    data: Record<string, unknown>;
  }>(pool, "fleetdrop_webhook_next", laneKey(lane), limit, "id::text AS id, attempts, event_id, type, created_at, device_serial, data");
  return rows.map((row) => ({
    id: row.id,
    attempts: row.attempts,
    eventId: row.event_id,
    type: row.type,
    createdAt: row.created_at,
    deviceSerial: row.device_serial,
    data: row.data,
  }));
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
  await outbox.delivered(
    pool,
    laneKey(lane),
    { owner, leaseMs },
    {
      ctes: /* sql */ `
        input AS (SELECT * FROM unnest($5::int8[], $6::int4[], $7::int4[]) AS i(id, status, duration_ms)),
        done AS (
          UPDATE webhook_deliveries d SET state = 'delivered', attempts = d.attempts + 1, last_status = i.status, last_error = NULL,
                 delivered_at = now()
          FROM input i WHERE d.id = i.id RETURNING d.id
        ),
        logged AS (INSERT INTO webhook_attempts (delivery_id, status, duration_ms) SELECT id, status, duration_ms FROM input)`,
      values: [items.map((item) => item.id), items.map((item) => item.status), items.map((item) => item.durationMs)],
    },
  );
}

/** Records a failed attempt (parked if `park`, else the lane waits until `retryAt`) and logs it. */
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
  await outbox.failed(
    pool,
    laneKey(input.lane),
    { ...input, itemId: input.deliveryId },
    {
      cte: "logged AS (INSERT INTO webhook_attempts (delivery_id, status, error, duration_ms) SELECT id, $5, $4, $8 FROM item)",
      values: [input.durationMs],
    },
  );
}

export async function releaseWebhookLane(pool: Pool, lane: TWebhookLane, owner: string): Promise<void> {
  await outbox.release(pool, laneKey(lane), owner);
}
