/**
 * docs/protocol.md#chunks: the raw route for `P/fleet/D/chunks/{stream}`. A chunk is written to the PostgreSQL
 * outbox (group commit, batches kept in arrival order) before its PUBACK; refusals are answered
 * on `P/fleet/D/chunks/response`, acceptances only when an MQTT 5 device asked with a Response
 * Topic (then with the outbox id).
 */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import type { TTopics } from "@fleetdrop/shared/topics";
import type { TRawRoute } from "../router";
import { GroupCommit } from "../transfer/group-commit";
import { enqueueChunks, type TChunkOutcome, type TChunkWrite } from "./outbox-db";

type TParams = { stream: string; valid: boolean };

export function createChunkRoute(deps: {
  topics: TTopics;
  pool: Pool;
  maxChunkBytes: number;
  onStored(count: number): void;
}): TRawRoute<TParams> {
  const { topics, pool } = deps;
  const outbox = new GroupCommit<TChunkWrite, TChunkOutcome>(
    async (items) => {
      const outcomes = await enqueueChunks(pool, items);
      const stored = outcomes.filter((outcome) => outcome.ok).length;
      if (stored > 0) deps.onStored(stored);
      return outcomes;
    },
    // One batch at a time: chunks of a device and stream are stored in the order they came.
    { maxItems: 256, maxBytes: 8 * 1024 * 1024, maxConcurrent: 1, weigh: (item) => item.data.length },
  );
  return {
    match(topic) {
      const parsed = topics.parseChunk(topic);
      return parsed ? { deviceId: parsed.deviceId, operation: "chunk", params: { stream: parsed.stream, valid: parsed.valid } } : null;
    },
    responseTopic: (deviceId) => topics.device(deviceId).chunksResponse,
    describe: (params) => ({ stream: params.stream }),
    async handle({ deviceId, params, payload, packet }) {
      // No await before submit: the outbox sees chunks in the order the broker delivered them.
      if (!params.valid) throw new ProtocolError("invalid_stream");
      if (payload.length > deps.maxChunkBytes) {
        throw new ProtocolError("chunk_too_large", `Chunks are at most ${deps.maxChunkBytes} bytes; this one has ${payload.length}`);
      }
      const contentType = packet.properties?.contentType ?? null;
      const outcome = await outbox.submit({ serial: deviceId, stream: params.stream, data: payload, contentType });
      if (!outcome.ok) throw new ProtocolError(outcome.code);
      return { chunk_id: outcome.chunkId };
    },
  };
}
