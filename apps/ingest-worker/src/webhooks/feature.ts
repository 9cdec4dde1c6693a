/**
 * Webhook delivery (docs/api.md#webhooks) in the worker: the outbox written by
 * fleetdrop_enqueue_event, delivered by the worker's delivery engine (../delivery/engine.ts, the
 * one chunk forwarding uses) in lanes of endpoint × device, each payload signed. A LISTEN on
 * `fleetdrop_webhooks` wakes the loop when an event commits; the poll is the fallback.
 */
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import type { TSecretBox } from "@fleetdrop/shared/crypto/secret-box";
import type { TWebhookPayload } from "@fleetdrop/shared/webhooks/events";
import type { Registry } from "prom-client";
import { createLaneDelivery, deliveryOwner, registerDeliveryCounters, type TDeliverySettings, type TLaneOutbox } from "../delivery/engine";
import type { TWorkerFeature } from "../feature";
import type { Logger } from "../logger";
import {
  leaseWebhookLanes,
  markWebhooksDelivered,
  nextDeliveries,
  recordWebhookFailure,
  releaseWebhookLane,
  type TPendingDelivery,
  type TWebhookLane,
} from "./outbox-db";
import { sealStoredWebhookSecrets, signingSecret } from "./secrets";
import { sendWebhook } from "./send";

export type TWebhookSettings = TDeliverySettings & {
  /** false: leave delivery to other workers. */
  deliver: boolean;
  /** Deliver to loopback and private addresses too (WEBHOOK_ALLOW_PRIVATE_ADDRESSES). */
  allowPrivateAddresses: boolean;
  /** Opens the endpoints' sealed secrets (WEBHOOK_SECRET_KEY); without it, sealed secrets cannot sign. */
  secretBox?: TSecretBox;
};

const DEFAULT_WEBHOOK_SETTINGS: TWebhookSettings = {
  deliver: true,
  allowPrivateAddresses: false,
  concurrency: 16,
  pollIntervalMs: 2000,
  backoffBaseMs: 2000,
  backoffMaxMs: 30 * 60_000,
  leaseMs: 60_000,
};

/** The JSON body of a delivery: the same bytes for every attempt of one event. */
export function webhookBody(lane: TWebhookLane, item: TPendingDelivery): string {
  const payload: TWebhookPayload = {
    id: item.eventId,
    type: item.type as TWebhookPayload["type"],
    created_at: item.createdAt.toISOString(),
    project: { id: lane.projectId, slug: lane.projectSlug },
    device: item.deviceSerial ? { serial: item.deviceSerial } : null,
    data: item.data,
  };
  return JSON.stringify(payload);
}

function webhookOutbox(pool: Pool, settings: TWebhookSettings): TLaneOutbox<TWebhookLane, TPendingDelivery> {
  return {
    lease: (owner, leaseMs, limit) => leaseWebhookLanes(pool, owner, leaseMs, limit),
    key: (lane) => `${lane.endpointId}/${lane.laneKey}`,
    next: (lane, limit) => nextDeliveries(pool, lane, limit),
    send: async (lane, item) => {
      let secret: string;
      try {
        secret = signingSecret(settings.secretBox ?? null, lane.endpointId, lane.secret);
      } catch (error) {
        // Never signed with anything else: the delivery waits (and says why) until the key is right.
        return {
          ok: false,
          status: null,
          error: `not sent: ${(error as Error).message}`,
          retryAfterMs: null,
          permanent: false,
          timeout: false,
          durationMs: 0,
        };
      }
      return sendWebhook({
        url: lane.url,
        secret,
        body: webhookBody(lane, item),
        eventId: item.eventId,
        eventType: item.type,
        deliveryId: item.id,
        timeoutMs: lane.timeoutMs,
        allowPrivateAddresses: settings.allowPrivateAddresses,
      });
    },
    maxAttempts: (lane) => lane.maxAttempts,
    delivered: (lane, items, owner, leaseMs) =>
      markWebhooksDelivered(
        pool,
        lane,
        items.map(({ item, attempt }) => ({ id: item.id, status: attempt.status, durationMs: attempt.durationMs })),
        owner,
        leaseMs,
      ),
    failed: ({ lane, item, attempt, error, park, retryAt }) =>
      recordWebhookFailure(pool, {
        lane,
        deliveryId: item.id,
        error,
        status: attempt.status,
        durationMs: attempt.durationMs,
        park,
        retryAt,
      }),
    release: (lane, owner) => releaseWebhookLane(pool, lane, owner),
    describe: (lane, item) => ({
      webhook: lane.endpointId,
      lane: lane.laneKey,
      ...(item ? { delivery: item.id, event: item.eventId, type: item.type } : {}),
    }),
  };
}

export function createWebhookFeature(deps: {
  settings: Partial<TWebhookSettings> | undefined;
  pool: Pool;
  registry: Registry;
  log: Logger;
}): TWorkerFeature & { readonly settings: TWebhookSettings; nudge(): void } {
  const settings = { ...DEFAULT_WEBHOOK_SETTINGS, ...deps.settings };
  const log = deps.log.child({ component: "webhook-delivery" });
  const delivery = createLaneDelivery({
    outbox: webhookOutbox(deps.pool, settings),
    owner: deliveryOwner(),
    settings,
    log,
    counters: registerDeliveryCounters(deps.registry, {
      delivered: { name: "fleetdrop_webhooks_delivered_total", help: "Webhook deliveries accepted" },
      failed: { name: "fleetdrop_webhook_attempts_failed_total", help: "Failed webhook attempts by reason" },
      parked: { name: "fleetdrop_webhooks_parked_total", help: "Webhook deliveries parked" },
    }),
    noun: "webhook",
  });

  let listener: PoolClient | null = null;
  let stopped = true;
  let retryTimer: NodeJS.Timeout | null = null;

  async function listen(): Promise<void> {
    if (stopped) return;
    try {
      const client = await deps.pool.connect();
      client.on("notification", () => delivery.nudge());
      client.on("error", () => {
        client.release(true);
        if (listener === client) listener = null;
        if (!stopped) retryTimer = setTimeout(() => void listen(), 5000);
      });
      await client.query("LISTEN fleetdrop_webhooks");
      listener = client;
      if (stopped) await unlisten();
    } catch (error) {
      log.warn({ err: error }, "cannot LISTEN for webhook events; polling until it can");
      if (!stopped) retryTimer = setTimeout(() => void listen(), 5000);
    }
  }

  async function unlisten(): Promise<void> {
    const client = listener;
    listener = null;
    if (!client) return;
    await client.query("UNLISTEN fleetdrop_webhooks").catch(() => {});
    client.release();
  }

  /** Seals what is not sealed with the current key yet; delivery starts after it either way. */
  async function sealSecrets(): Promise<void> {
    try {
      if (!settings.secretBox) {
        const { rows } = await deps.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM webhook_endpoints WHERE NOT starts_with(secret, 'whsec_')",
        );
        const sealed = rows[0]?.n ?? 0;
        if (sealed > 0) log.error({ endpoints: sealed }, "WEBHOOK_SECRET_KEY is not set: deliveries to endpoints with sealed secrets wait");
        return;
      }
      const { sealed, unreadable } = await sealStoredWebhookSecrets(deps.pool, settings.secretBox);
      if (sealed > 0) log.info({ sealed }, "sealed webhook secrets with the current WEBHOOK_SECRET_KEY");
      if (unreadable.length > 0) {
        log.error(
          { webhooks: unreadable },
          "webhook secrets that open with none of WEBHOOK_SECRET_KEY and WEBHOOK_SECRET_KEY_PREVIOUS: their deliveries wait",
        );
      }
    } catch (error) {
      log.warn({ err: error }, "could not check the stored webhook secrets; trying again at the next start");
    }
  }

  let starting: Promise<void> | null = null;

  return {
    name: "webhooks",
    settings,
    start() {
      if (!settings.deliver || !stopped) return;
      stopped = false;
      starting = sealSecrets().then(() => {
        if (stopped) return;
        delivery.start();
        void listen();
      });
    },
    nudge: () => delivery.nudge(),
    async stop() {
      stopped = true;
      await starting;
      if (retryTimer) clearTimeout(retryTimer);
      await delivery.stop();
      await unlisten();
    },
  };
}
