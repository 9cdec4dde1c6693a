/**
 * Delivers the chunk outbox (docs/protocol.md#chunks): leases due lanes (stream × device), POSTs their chunks one after the
 * other in order, deletes what the endpoint accepted. A failure delays the lane with exponential
 * back-off (or the endpoint's Retry-After); after `max_attempts` failures — or at once for an
 * answer that retrying cannot fix (4xx other than 408/425/429) — the chunk is parked with its
 * reason and the lane moves on. Several workers share lanes through leases; a crash leaves at
 * most the chunk in flight to be sent again (at-least-once).
 */
import type { Pool } from "@fleetdrop/db/pool";
import { renderChunkTemplate } from "@fleetdrop/shared/protocol/chunks";
import type { Logger } from "../logger";
import { leaseLanes, markDelivered, nextChunks, recordFailure, releaseLane, type TLane, type TPendingChunk } from "./outbox-db";

export type TDeliverySettings = {
  /** Lanes delivered at once by this worker. */
  concurrency: number;
  /** How often due lanes are looked for when nothing nudged the loop. */
  pollIntervalMs: number;
  /** First back-off after a failure; doubles per attempt, up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A lane's lease (renewed as chunks are delivered). */
  leaseMs: number;
};

export type TDeliveryCounters = {
  delivered(count: number): void;
  failed(reason: "http" | "network" | "timeout"): void;
  parked(): void;
};

type TAttempt = { ok: true } | { ok: false; status: number | null; error: string; retryAfterMs: number | null; permanent: boolean };

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

async function post(lane: TLane, chunk: TPendingChunk): Promise<TAttempt> {
  const values = { device_id: lane.serial, stream: lane.stream };
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(lane.headers)) headers[name] = renderChunkTemplate(String(template), values, "header");
  headers["content-type"] ??= chunk.contentType ?? "application/octet-stream";
  headers["x-fleetdrop-device"] = lane.serial;
  headers["x-fleetdrop-stream"] = lane.stream;
  headers["x-fleetdrop-chunk-id"] = chunk.id;
  try {
    const response = await fetch(renderChunkTemplate(lane.urlTemplate, values, "url"), {
      method: "POST",
      headers,
      body: chunk.payload,
      signal: AbortSignal.timeout(lane.timeoutMs),
      redirect: "manual",
    });
    const text = response.ok ? "" : (await response.text().catch(() => "")).slice(0, 300);
    await response.body?.cancel().catch(() => {});
    if (response.ok) return { ok: true };
    const status = response.status;
    const retryable = status >= 500 || status === 408 || status === 425 || status === 429;
    return {
      ok: false,
      status,
      error: `HTTP ${status}${text ? `: ${text.replace(/\s+/g, " ").trim()}` : ""}`,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
      permanent: !retryable,
    };
  } catch (error) {
    const timeout = (error as Error).name === "TimeoutError";
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      status: null,
      error: timeout
        ? `no answer within ${lane.timeoutMs} ms`
        : `cannot reach the endpoint: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      retryAfterMs: null,
      permanent: false,
    };
  }
}

export function createChunkDelivery(deps: {
  pool: Pool;
  owner: string;
  settings: TDeliverySettings;
  log: Logger;
  counters: TDeliveryCounters;
}) {
  const { pool, owner, settings, log, counters } = deps;
  let stopped = true;
  let wake: (() => void) | null = null;
  let nudged = false;
  let loop: Promise<void> | null = null;
  const active = new Set<string>();

  /** Delivers a leased lane until it is empty or waits on back-off; the caller releases the lease. */
  async function deliverLane(lane: TLane): Promise<void> {
    for (;;) {
      const chunks = await nextChunks(pool, lane, 20);
      if (chunks.length === 0 || stopped) return;
      const delivered: string[] = [];
      for (const chunk of chunks) {
        const attempt = await post(lane, chunk);
        if (attempt.ok) {
          delivered.push(chunk.id);
          continue;
        }
        await markDelivered(pool, lane, delivered, owner, settings.leaseMs);
        counters.delivered(delivered.length);
        counters.failed(attempt.status === null ? (attempt.error.startsWith("no answer") ? "timeout" : "network") : "http");
        const attempts = chunk.attempts + 1;
        const park = attempt.permanent || attempts >= lane.maxAttempts;
        const wait = park ? null : Math.max(attempt.retryAfterMs ?? 0, backoffMs(attempts, settings));
        const reason = park && !attempt.permanent ? `${attempt.error} (gave up after ${attempts} attempts)` : attempt.error;
        await recordFailure(pool, {
          lane,
          chunkId: chunk.id,
          error: reason,
          status: attempt.status,
          park,
          retryAt: wait === null ? null : new Date(Date.now() + wait),
        });
        if (park) {
          counters.parked();
          log.warn({ device: lane.serial, stream: lane.stream, chunk_id: chunk.id, reason }, "chunk parked");
          break; // the lane goes on with its next chunk
        }
        log.info(
          { device: lane.serial, stream: lane.stream, chunk_id: chunk.id, attempts, retry_in_ms: wait, reason: attempt.error },
          "chunk delivery failed; will retry",
        );
        return;
      }
      if (delivered.length === chunks.length) {
        await markDelivered(pool, lane, delivered, owner, settings.leaseMs);
        counters.delivered(delivered.length);
      }
    }
  }

  async function round(): Promise<void> {
    const free = settings.concurrency - active.size;
    if (free <= 0) return;
    const lanes = await leaseLanes(pool, owner, settings.leaseMs, free);
    for (const lane of lanes) {
      const key = `${lane.streamId}/${lane.deviceId}`;
      if (active.has(key)) continue;
      active.add(key);
      void deliverLane(lane)
        .catch((error: unknown) =>
          log.warn({ err: error, device: lane.serial, stream: lane.stream }, "chunk delivery interrupted; the lane is retried"),
        )
        .finally(() => {
          // Forget the lane here first, then end its lease: a round that leases it again after
          // that finds it free to deliver. (In the other order a round could lease the lane
          // while it still counted as active, skip it, and leave the lane blocked until that
          // lease expired.)
          active.delete(key);
          void releaseLane(pool, lane, owner)
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
        log.warn({ err: error }, "could not look for chunks to deliver; retrying");
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
    /** Something was enqueued here: look now instead of at the next poll. */
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
