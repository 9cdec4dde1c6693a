/**
 * Chunk forwarding (docs/protocol.md#chunks) from the device side: publish a chunk (crash data, metrics) on `P/fleet/D/chunks/{stream}`
 * at QoS 1. The platform stores it in its outbox before acknowledging it and forwards it to the
 * stream's HTTP endpoint, in order per device and stream.
 *
 * `confirm: true` (MQTT 5) also waits for the worker's own answer: success means the chunk is in
 * the outbox (durable); a refusal (unknown stream, too large, disabled device) throws with its code.
 * Without it, refusals arrive on `P/fleet/D/chunks/response`; `onChunkRefused` sees them.
 */
import { randomBytes } from "node:crypto";
import type { MqttClient } from "mqtt";
import { FleetdropError, retryAfterOf, TimeoutError } from "./errors";
import type { TTransferConnection } from "./mqtt-transfer";

export type TSendChunkOptions = {
  /** Wait for the worker's answer (MQTT 5 only). */
  confirm?: boolean;
  /** MQTT 5 Content Type, forwarded as the HTTP Content-Type. */
  contentType?: string;
};

export type TChunkAnswer = Record<string, unknown> & {
  success: boolean;
  status: number;
  stream: string;
  code?: string;
  error?: string;
  chunk_id?: string;
};

const STREAM = /^[A-Za-z0-9_-]{1,64}$/;

type TChannel = {
  waiters: Map<string, (answer: TChunkAnswer) => void>;
  refused: Set<(answer: TChunkAnswer) => void>;
  subscribed: Promise<unknown>;
};
const channels = new WeakMap<MqttClient, TChannel>();

function channelOf(connection: TTransferConnection): TChannel {
  let channel = channels.get(connection.client);
  if (channel) return channel;
  const responseTopic = `${connection.base}chunks/response`;
  const created: TChannel = {
    waiters: new Map(),
    refused: new Set(),
    subscribed: connection.client.subscribeAsync(responseTopic, { qos: 1 }),
  };
  connection.client.on("message", (topic, payload, packet) => {
    if (topic !== responseTopic) return;
    let answer: TChunkAnswer;
    try {
      answer = JSON.parse(payload.toString("utf8")) as TChunkAnswer;
    } catch {
      return;
    }
    const key = packet.properties?.correlationData?.toString("hex");
    const waiter = key ? created.waiters.get(key) : undefined;
    if (waiter) {
      created.waiters.delete(key!);
      waiter(answer);
    } else if (answer.success === false) {
      for (const handler of created.refused) handler(answer);
    }
  });
  channels.set(connection.client, created);
  return created;
}

/** Sees refusals of chunks sent without `confirm`; returns a function that stops listening. */
export function onChunkRefused(connection: TTransferConnection, handler: (answer: TChunkAnswer) => void): () => void {
  const channel = channelOf(connection);
  channel.refused.add(handler);
  return () => channel.refused.delete(handler);
}

export async function sendChunk(
  connection: TTransferConnection,
  stream: string,
  bytes: Uint8Array | string,
  options: TSendChunkOptions = {},
): Promise<TChunkAnswer | null> {
  if (!STREAM.test(stream) || stream === "response")
    throw new FleetdropError(
      `invalid stream name ${JSON.stringify(stream)}: use [A-Za-z0-9_-]{1,64}, not "response"`,
      "invalid_stream",
      400,
    );
  const channel = channelOf(connection);
  await channel.subscribed;
  const topic = `${connection.base}chunks/${stream}`;
  const v5 = connection.client.options.protocolVersion === 5;
  if (!options.confirm) {
    await connection.client.publishAsync(topic, Buffer.from(bytes), {
      qos: 1,
      ...(v5 && options.contentType ? { properties: { contentType: options.contentType } } : {}),
    });
    return null;
  }
  if (!v5) throw new FleetdropError("confirm needs MQTT 5 (Response Topic and Correlation Data)", "mqtt5_required", 400);
  const correlation = randomBytes(12);
  const key = correlation.toString("hex");
  const answer = new Promise<TChunkAnswer>((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.waiters.delete(key);
      reject(new TimeoutError(`chunk on ${stream}`, connection.timeoutMs));
    }, connection.timeoutMs);
    channel.waiters.set(key, (value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
  await connection.client.publishAsync(topic, Buffer.from(bytes), {
    qos: 1,
    properties: {
      responseTopic: `${connection.base}chunks/response`,
      correlationData: correlation,
      ...(options.contentType ? { contentType: options.contentType } : {}),
    },
  });
  const result = await answer;
  if (result.success !== true)
    throw new FleetdropError(
      String(result.error ?? "chunk refused"),
      String(result.code ?? "unknown"),
      Number(result.status ?? 500),
      retryAfterOf(result),
    );
  return result;
}
