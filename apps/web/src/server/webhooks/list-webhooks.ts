import "server-only";
import { CAN } from "@/lib/roles";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { db } from "@/server/db";

export type TWebhookEndpointRow = {
  id: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  pending: number;
  delivered: number;
  parked: number;
  lastError: string | null;
};

export type TWebhookDeliveryRow = {
  id: string;
  endpointUrl: string;
  eventId: string;
  type: string;
  device: string | null;
  state: "pending" | "delivered" | "parked";
  redelivery: boolean;
  createdAt: string;
  /** Each attempt: its HTTP status (null: no answer), error and duration. */
  attempts: { at: string; status: number | null; error: string | null; durationMs: number }[];
};

export const DELIVERY_LOG_SIZE = 50;

/** The project's endpoints with their outbox counts; never the secret. */
export async function listWebhookEndpoints(options: { ctx: TProjectContext }): Promise<TWebhookEndpointRow[]> {
  requireRole(options.ctx, CAN.manageDevices);
  const rows = await db().$queryRaw<
    {
      id: string;
      url: string;
      description: string;
      events: string[];
      enabled: boolean;
      pending: bigint;
      delivered: bigint;
      parked: bigint;
      last_error: string | null;
    }[]
  >`
    SELECT e.id, e.url, e.description, e.events, e.enabled,
           count(d.id) FILTER (WHERE d.state = 'pending') AS pending,
           count(d.id) FILTER (WHERE d.state = 'delivered') AS delivered,
           count(d.id) FILTER (WHERE d.state = 'parked') AS parked,
           (SELECT l.last_error FROM webhook_lanes l WHERE l.endpoint_id = e.id AND l.last_error IS NOT NULL
             ORDER BY l.last_attempt_at DESC LIMIT 1) AS last_error
    FROM webhook_endpoints e LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id
    WHERE e.project_id = ${options.ctx.project.id}::uuid
    GROUP BY e.id ORDER BY e.created_at`;
  return rows.map((row) => ({
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    pending: Number(row.pending),
    delivered: Number(row.delivered),
    parked: Number(row.parked),
    lastError: row.last_error,
  }));
}

/** The newest deliveries of the project's endpoints, each with its attempts. */
export async function listWebhookDeliveries(options: { ctx: TProjectContext }): Promise<TWebhookDeliveryRow[]> {
  requireRole(options.ctx, CAN.manageDevices);
  const rows = await db().webhookDelivery.findMany({
    where: { endpoint: { projectId: options.ctx.project.id } },
    orderBy: { id: "desc" },
    take: DELIVERY_LOG_SIZE,
    select: {
      id: true,
      state: true,
      redeliveryOf: true,
      createdAt: true,
      endpoint: { select: { url: true } },
      event: { select: { id: true, type: true, deviceSerial: true } },
      attemptLog: { orderBy: { id: "asc" }, select: { at: true, status: true, error: true, durationMs: true } },
    },
  });
  return rows.map((row) => ({
    id: row.id.toString(),
    endpointUrl: row.endpoint.url,
    eventId: row.event.id,
    type: row.event.type,
    device: row.event.deviceSerial,
    state: row.state,
    redelivery: row.redeliveryOf !== null,
    createdAt: row.createdAt.toISOString(),
    attempts: row.attemptLog.map((a) => ({ at: a.at.toISOString(), status: a.status, error: a.error, durationMs: a.durationMs })),
  }));
}
