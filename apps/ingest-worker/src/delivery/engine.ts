/**
 * The worker's one delivery engine for outboxes kept in PostgreSQL and delivered over HTTP in
 * lanes: chunk forwarding (lane = stream × device, docs/protocol.md#chunks) and webhooks (lane =
 * endpoint × device, docs/api.md#webhooks). It leases due lanes, sends their items one after the
 * other in order, and records the outcome through the outbox. A failure delays the lane with
 * exponential back-off (or the receiver's Retry-After); after the lane's `maxAttempts` failures —
 * or at once for an answer retrying cannot fix (4xx other than 408/425/429) — the item is parked
 * with its reason and the lane moves on. Several workers share lanes through leases; a crash
 * leaves at most the item in flight to be sent again (at-least-once).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../logger";

export type TDeliverySettings = {
  /** Lanes delivered at once by this worker. */
  concurrency: number;
  /** How often due lanes are looked for when nothing nudged the loop. */
  pollIntervalMs: number;
  /** First back-off after a failure; doubles per attempt, up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A lane's lease (renewed as items are delivered). */
  leaseMs: number;
};

export type TDeliveryCounters = {
  delivered(count: number): void;
  failed(reason: "http" | "network" | "timeout"): void;
  parked(): void;
};

/** One HTTP attempt's outcome. `status` null: no answer (network error, timeout, refused address). */
export type TAttempt =
  | { ok: true; status: number; durationMs: number }
  | {
      ok: false;
      status: number | null;
      error: string;
      retryAfterMs: number | null;
      permanent: boolean;
      timeout: boolean;
      durationMs: number;
    };

export type TOutboxItem = { id: string; attempts: number };

/** What an outbox provides the engine; every method works on lanes this worker leased. */
export type TLaneOutbox<TLane, TItem extends TOutboxItem> = {
  /** Leases up to `limit` due lanes that hold pending items. */
  lease(owner: string, leaseMs: number, limit: number): Promise<TLane[]>;
  /** Identifies a lane within this worker (a lane is delivered by one loop at a time). */
  key(lane: TLane): string;
  /** The lane's oldest pending items, in order. */
  next(lane: TLane, limit: number): Promise<TItem[]>;
  /** Sends one item. */
  send(lane: TLane, item: TItem): Promise<TAttempt>;
  maxAttempts(lane: TLane): number;
  /** Items the receiver accepted (with the attempts that did it); renews the lease. */
  delivered(lane: TLane, items: { item: TItem; attempt: TAttempt & { ok: true } }[], owner: string, leaseMs: number): Promise<void>;
  /** A failed attempt: park the item, or hold the lane until `retryAt`. */
  failed(input: {
    lane: TLane;
    item: TItem;
    attempt: TAttempt & { ok: false };
    error: string;
    park: boolean;
    retryAt: Date | null;
  }): Promise<void>;
  /** Ends the lease (any worker may take the lane when it is due). */
  release(lane: TLane, owner: string): Promise<void>;
  /** Fields naming the lane and item in log lines. */
  describe(lane: TLane, item?: TItem): Record<string, unknown>;
};

/** This process's name on the lanes it leases: unique per start, readable in the lanes table. */
export function deliveryOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** An outbox's delivery counters, registered under the outbox's metric names. */
export function registerDeliveryCounters(
  registry: Registry,
  metrics: Record<keyof TDeliveryCounters, { name: string; help: string }>,
): TDeliveryCounters {
  const delivered = new Counter({ ...metrics.delivered, registers: [registry] });
  const failed = new Counter({ ...metrics.failed, labelNames: ["reason"] as const, registers: [registry] });
  const parked = new Counter({ ...metrics.parked, registers: [registry] });
  return { delivered: (count) => delivered.inc(count), failed: (reason) => failed.inc({ reason }), parked: () => parked.inc() };
}

/** Retry-After as seconds or an HTTP date, in ms from now (null when absent or unreadable). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function backoffMs(
  attempts: number,
  settings: Pick<TDeliverySettings, "backoffBaseMs" | "backoffMaxMs">,
  random = Math.random(),
): number {
  const exponential = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  // ±20 % jitter so lanes that failed together do not retry together.
  return Math.round(exponential * (0.8 + 0.4 * random));
}

/** An HTTP answer as an attempt: 2xx delivered; 5xx, 408, 425 and 429 worth retrying; other codes final. */
export function answerAttempt(status: number, bodyText: string, retryAfter: string | null, durationMs: number): TAttempt {
  if (status >= 200 && status < 300) return { ok: true, status, durationMs };
  const retryable = status >= 500 || status === 408 || status === 425 || status === 429;
  const text = bodyText.slice(0, 300).replace(/\s+/g, " ").trim();
  return {
    ok: false,
    status,
    error: `HTTP ${status}${text ? `: ${text}` : ""}`,
    retryAfterMs: parseRetryAfter(retryAfter),
    permanent: !retryable,
    timeout: false,
    durationMs,
  };
}

/** A request that got no answer, as an attempt (always worth retrying). */
export function noAnswerAttempt(error: unknown, timeoutMs: number, durationMs: number): TAttempt {
  const timeout = (error as Error).name === "TimeoutError";
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = (error as { code?: string }).code;
  return {
    ok: false,
    status: null,
    error: timeout
      ? `no answer within ${timeoutMs} ms`
      : `cannot reach the endpoint: ${cause?.code ?? cause?.message ?? code ?? (error as Error).message}`,
    retryAfterMs: null,
    permanent: false,
    timeout,
    durationMs,
  };
}

export function createLaneDelivery<TLane, TItem extends TOutboxItem>(deps: {
  outbox: TLaneOutbox<TLane, TItem>;
  owner: string;
  settings: TDeliverySettings;
  log: Logger;
  counters: TDeliveryCounters;
  /** What the log lines call an item ("chunk", "webhook"). */
  noun: string;
}) {
  const { outbox, owner, settings, log, counters, noun } = deps;
  let stopped = true;
  let wake: (() => void) | null = null;
  let nudged = false;
  let loop: Promise<void> | null = null;
  const active = new Set<string>();

  /** Delivers a leased lane until it is empty or waits on back-off; the caller releases the lease. */
  async function deliverLane(lane: TLane): Promise<void> {
    for (;;) {
      const items = await outbox.next(lane, 20);
      if (items.length === 0 || stopped) return;
      const delivered: { item: TItem; attempt: TAttempt & { ok: true } }[] = [];
      for (const item of items) {
        const attempt = await outbox.send(lane, item);
        if (attempt.ok) {
          delivered.push({ item, attempt });
          continue;
        }
        await outbox.delivered(lane, delivered, owner, settings.leaseMs);
        counters.delivered(delivered.length);
        counters.failed(attempt.status === null ? (attempt.timeout ? "timeout" : "network") : "http");
        const attempts = item.attempts + 1;
        const park = attempt.permanent || attempts >= outbox.maxAttempts(lane);
        const wait = park ? null : Math.max(attempt.retryAfterMs ?? 0, backoffMs(attempts, settings));
        const reason = park && !attempt.permanent ? `${attempt.error} (gave up after ${attempts} attempts)` : attempt.error;
        await outbox.failed({ lane, item, attempt, error: reason, park, retryAt: wait === null ? null : new Date(Date.now() + wait) });
        if (park) {
          counters.parked();
          log.warn({ ...outbox.describe(lane, item), reason }, `${noun} parked`);
          break; // the lane goes on with its next item
        }
        log.info(
          { ...outbox.describe(lane, item), attempts, retry_in_ms: wait, reason: attempt.error },
          `${noun} delivery failed; will retry`,
        );
        return;
      }
      if (delivered.length === items.length) {
        await outbox.delivered(lane, delivered, owner, settings.leaseMs);
        counters.delivered(delivered.length);
      }
    }
  }

  async function round(): Promise<void> {
    const free = settings.concurrency - active.size;
    if (free <= 0) return;
    const lanes = await outbox.lease(owner, settings.leaseMs, free);
    for (const lane of lanes) {
      const key = outbox.key(lane);
      if (active.has(key)) continue;
      active.add(key);
      void deliverLane(lane)
        .catch((error: unknown) => log.warn({ err: error, ...outbox.describe(lane) }, `${noun} delivery interrupted; the lane is retried`))
        .finally(() => {
          // Forget the lane here first, then end its lease: a round that leases it again after
          // that finds it free to deliver. (In the other order a round could lease the lane
          // while it still counted as active, skip it, and leave the lane blocked until that
          // lease expired.)
          active.delete(key);
          void outbox
            .release(lane, owner)
            .catch(() => {})
            .then(() => nudge());
        });
    }
  }

  function nudge(): void {
    nudged = true;
    wake?.();
  }

  async function run(): Promise<void> {
    while (!stopped) {
      nudged = false;
      try {
        await round();
      } catch (error) {
        log.warn({ err: error }, `could not look for ${noun}s to deliver; retrying`);
      }
      if (stopped) break;
      if (nudged) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      loop = run();
    },
    /** Something was enqueued: look now instead of at the next poll. */
    nudge,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      const deadline = Date.now() + 10_000;
      while (active.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}
