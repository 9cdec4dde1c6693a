import "server-only";
import { randomUUID } from "node:crypto";
import type { TSecretBox } from "@fleetdrop/shared/crypto/secret-box";
import { privateHostReason } from "@fleetdrop/shared/webhooks/address";
import {
  MAX_WEBHOOK_ENDPOINTS_PER_PROJECT,
  WEBHOOK_TEST_EVENT,
  ZWebhookEndpointFormSchema,
  type TWebhookEndpointForm,
} from "@fleetdrop/shared/webhooks/events";
import { webhookSecretBox } from "@fleetdrop/shared/webhooks/env";
import { sealWebhookSecret } from "@fleetdrop/shared/webhooks/secret";
import { generateWebhookSecret } from "@fleetdrop/shared/webhooks/signature";
import { getEnv } from "@/env";
import { CAN } from "@/lib/roles";
import { actorLabel, writeAudit } from "@/server/audit/write-audit";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";

/**
 * The URL policy at save time: a host that is plainly this machine or a private network is
 * refused unless the operator allows it. The worker checks the resolved address again at every
 * connection (a public name can point inward later).
 */
function checkUrl(url: string): void {
  if (getEnv().WEBHOOK_ALLOW_PRIVATE_ADDRESSES) return;
  const reason = privateHostReason(new URL(url));
  if (reason) throw new UserInputError(`${reason}: webhooks go to public addresses (an operator can allow private ones)`, "url");
}

let box: TSecretBox | undefined;
/** Secrets are stored sealed under WEBHOOK_SECRET_KEY (docs/api.md#the-secret); the worker opens them to sign. */
function secretBox(): TSecretBox {
  box ??= webhookSecretBox(getEnv());
  // env.ts requires the key at start; this only guards the type.
  if (!box) throw new Error("WEBHOOK_SECRET_KEY is not set");
  return box;
}

async function endpointOf(ctx: TProjectContext, endpointId: string) {
  const endpoint = await db().webhookEndpoint.findFirst({
    where: { id: endpointId, projectId: ctx.project.id },
    select: { id: true, url: true },
  });
  if (!endpoint) throw new NotFoundError("No such endpoint");
  return endpoint;
}

/** Creates an endpoint; its secret is returned once, here, and never shown again. */
export async function createWebhookEndpoint(options: {
  ctx: TProjectContext;
  form: TWebhookEndpointForm;
}): Promise<{ id: string; secret: string }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const form = ZWebhookEndpointFormSchema.parse(options.form);
  checkUrl(form.url);
  const prisma = db();
  if ((await prisma.webhookEndpoint.count({ where: { projectId: ctx.project.id } })) >= MAX_WEBHOOK_ENDPOINTS_PER_PROJECT) {
    throw new UserInputError(`A project has at most ${MAX_WEBHOOK_ENDPOINTS_PER_PROJECT} webhook endpoints`);
  }
  const secret = generateWebhookSecret();
  // The id is chosen here because the sealed secret is bound to it.
  const id = randomUUID();
  const endpoint = await prisma.webhookEndpoint.create({
    data: {
      id,
      projectId: ctx.project.id,
      url: form.url,
      description: form.description,
      events: form.events,
      secret: sealWebhookSecret(secretBox(), id, secret),
    },
    select: { id: true },
  });
  await writeAudit(ctx, {
    action: "webhook.create",
    targetType: "webhook",
    targetId: endpoint.id,
    details: { url: form.url, events: form.events },
  });
  return { id: endpoint.id, secret };
}

export async function updateWebhookEndpoint(options: {
  ctx: TProjectContext;
  endpointId: string;
  form: TWebhookEndpointForm;
}): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const form = ZWebhookEndpointFormSchema.parse(options.form);
  const endpoint = await endpointOf(ctx, options.endpointId);
  checkUrl(form.url);
  await db().webhookEndpoint.update({
    where: { id: endpoint.id },
    data: { url: form.url, description: form.description, events: form.events },
  });
  await writeAudit(ctx, {
    action: "webhook.update",
    targetType: "webhook",
    targetId: endpoint.id,
    details: { url: form.url, events: form.events },
  });
}

export async function setWebhookEnabled(options: { ctx: TProjectContext; endpointId: string; enabled: boolean }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const endpoint = await endpointOf(ctx, options.endpointId);
  await db().webhookEndpoint.update({ where: { id: endpoint.id }, data: { enabled: options.enabled } });
  await writeAudit(ctx, { action: options.enabled ? "webhook.enable" : "webhook.disable", targetType: "webhook", targetId: endpoint.id });
}

export async function deleteWebhookEndpoint(options: { ctx: TProjectContext; endpointId: string }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const endpoint = await endpointOf(ctx, options.endpointId);
  await db().webhookEndpoint.delete({ where: { id: endpoint.id } });
  await writeAudit(ctx, { action: "webhook.delete", targetType: "webhook", targetId: endpoint.id, details: { url: endpoint.url } });
}

/** A new secret, shown once; deliveries from now on are signed with it. */
export async function rollWebhookSecret(options: { ctx: TProjectContext; endpointId: string }): Promise<string> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const endpoint = await endpointOf(ctx, options.endpointId);
  const secret = generateWebhookSecret();
  await db().webhookEndpoint.update({ where: { id: endpoint.id }, data: { secret: sealWebhookSecret(secretBox(), endpoint.id, secret) } });
  await writeAudit(ctx, { action: "webhook.roll_secret", targetType: "webhook", targetId: endpoint.id });
  return secret;
}

/** Queues a `webhook.test` event for this endpoint alone, whatever it subscribed to. */
export async function sendTestEvent(options: { ctx: TProjectContext; endpointId: string }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const endpoint = await endpointOf(ctx, options.endpointId);
  const data = JSON.stringify({ message: "A test event sent from the dashboard", sent_by: actorLabel(ctx) });
  await db().$executeRaw`
    WITH event AS (
      INSERT INTO webhook_events (project_id, type, data)
      VALUES (${ctx.project.id}::uuid, ${WEBHOOK_TEST_EVENT}, ${data}::jsonb) RETURNING id
    ),
    lane AS (
      INSERT INTO webhook_lanes (endpoint_id, lane_key) VALUES (${endpoint.id}::uuid, 'project')
      ON CONFLICT (endpoint_id, lane_key) DO UPDATE SET next_attempt_at = least(webhook_lanes.next_attempt_at, now())
    )
    INSERT INTO webhook_deliveries (endpoint_id, event_id, lane_key) SELECT ${endpoint.id}::uuid, id, 'project' FROM event`;
  await db().$executeRaw`SELECT pg_notify('fleetdrop_webhooks', '')`;
  await writeAudit(ctx, { action: "webhook.test", targetType: "webhook", targetId: endpoint.id });
}

/**
 * Delivers an event again: a new delivery of the same event (same Fleetdrop-Event-Id, so a
 * receiver that already handled it can tell), at the end of its lane, due now.
 */
export async function redeliverWebhook(options: { ctx: TProjectContext; deliveryId: string }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const id = BigInt(options.deliveryId);
  const delivery = await db().webhookDelivery.findFirst({
    where: { id, endpoint: { projectId: ctx.project.id } },
    select: { id: true, endpointId: true, eventId: true, laneKey: true },
  });
  if (!delivery) throw new NotFoundError("No such delivery");
  await db().$transaction([
    db().webhookDelivery.create({
      data: { endpointId: delivery.endpointId, eventId: delivery.eventId, laneKey: delivery.laneKey, redeliveryOf: delivery.id },
    }),
    db().webhookLane.updateMany({
      where: { endpointId: delivery.endpointId, laneKey: delivery.laneKey },
      data: { nextAttemptAt: new Date() },
    }),
  ]);
  await db().$executeRaw`SELECT pg_notify('fleetdrop_webhooks', '')`;
  await writeAudit(ctx, {
    action: "webhook.redeliver",
    targetType: "webhook_delivery",
    targetId: delivery.id.toString(),
    details: { event: delivery.eventId },
  });
}
