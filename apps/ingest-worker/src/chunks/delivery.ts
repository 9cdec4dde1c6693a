/**
 * Delivers the chunk outbox (docs/protocol.md#chunks) with the worker's delivery engine
 * (../delivery/engine.ts): lanes are stream × device, a delivered chunk is deleted, a parked one
 * stays with its reason.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { renderChunkTemplate } from "@fleetdrop/shared/protocol/chunks";
import {
  answerAttempt,
  createLaneDelivery,
  noAnswerAttempt,
  type TAttempt,
  type TDeliveryCounters,
  type TDeliverySettings,
  type TLaneOutbox,
} from "../delivery/engine";
import type { Logger } from "../logger";
import { leaseLanes, markDelivered, nextChunks, recordFailure, releaseLane, type TLane, type TPendingChunk } from "./outbox-db";

export { backoffMs, parseRetryAfter, type TDeliveryCounters, type TDeliverySettings } from "../delivery/engine";

async function post(lane: TLane, chunk: TPendingChunk): Promise<TAttempt> {
  const values = { device_id: lane.serial, stream: lane.stream };
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(lane.headers)) headers[name] = renderChunkTemplate(String(template), values, "header");
  headers["content-type"] ??= chunk.contentType ?? "application/octet-stream";
  headers["x-fleetdrop-device"] = lane.serial;
  headers["x-fleetdrop-stream"] = lane.stream;
  headers["x-fleetdrop-chunk-id"] = chunk.id;
  const started = performance.now();
  try {
    const response = await fetch(renderChunkTemplate(lane.urlTemplate, values, "url"), {
      method: "POST",
      headers,
      body: chunk.payload,
      signal: AbortSignal.timeout(lane.timeoutMs),
      redirect: "manual",
    });
    const text = response.ok ? "" : await response.text().catch(() => "");
    await response.body?.cancel().catch(() => {});
    return answerAttempt(response.status, text, response.headers.get("retry-after"), Math.round(performance.now() - started));
  } catch (error) {
    return noAnswerAttempt(error, lane.timeoutMs, Math.round(performance.now() - started));
  }
}

function chunkOutbox(pool: Pool): TLaneOutbox<TLane, TPendingChunk> {
  return {
    lease: (owner, leaseMs, limit) => leaseLanes(pool, owner, leaseMs, limit),
    key: (lane) => `${lane.streamId}/${lane.deviceId}`,
    next: (lane, limit) => nextChunks(pool, lane, limit),
    send: post,
    maxAttempts: (lane) => lane.maxAttempts,
    delivered: (lane, items, owner, leaseMs) =>
      markDelivered(
        pool,
        lane,
        items.map(({ item }) => item.id),
        owner,
        leaseMs,
      ),
    failed: ({ lane, item, attempt, error, park, retryAt }) =>
      recordFailure(pool, { lane, chunkId: item.id, error, status: attempt.status, park, retryAt }),
    release: (lane, owner) => releaseLane(pool, lane, owner),
    describe: (lane, item) => ({ device: lane.serial, stream: lane.stream, ...(item ? { chunk_id: item.id } : {}) }),
  };
}

export function createChunkDelivery(deps: {
  pool: Pool;
  owner: string;
  settings: TDeliverySettings;
  log: Logger;
  counters: TDeliveryCounters;
}) {
  return createLaneDelivery({ ...deps, outbox: chunkOutbox(deps.pool), noun: "chunk" });
}
