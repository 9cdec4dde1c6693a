/**
 * Requests the worker has answered, remembered for a while so that a redelivery of the same
 * request (QoS 1, DUP set: the broker restarted, or lost the worker's PUBACK) is handled again —
 * handling is idempotent — but not answered a second time. The first answer is either
 * acknowledged by the broker (which delivers it) or still in flight in the worker's own session,
 * which the MQTT client sends again after a reconnect; answering the redelivery too would give
 * the device two answers. Only an answer whose publish failed lets a redelivery be answered
 * again. A request is known by its device, topic, request_id and MQTT 5 Correlation Data; one
 * carrying neither id is always answered.
 */
import type { IPublishPacket } from "mqtt";

const MAX_ENTRIES = 20_000;
const KEEP_MS = 10 * 60_000;

export type TAnsweredRequests = {
  /** The key of a request that can be recognised again, or null. */
  keyOf(deviceId: string, packet: IPublishPacket, requestId: string | undefined): string | null;
  /** A redelivered request whose answer the broker holds or the worker is still sending. */
  alreadyAnswered(key: string | null, packet: IPublishPacket): boolean;
  /** The answer to this request was handed to the MQTT client. */
  sending(key: string | null): void;
  /** The broker acknowledged the answer to this request. */
  delivered(key: string | null): void;
  /** The answer to this request could not be published: a redelivery must be answered. */
  failed(key: string | null): void;
};

/** An answer's state: in flight (no time yet) or acknowledged at a time. */
type TEntry = { at: number | null };

export function createAnsweredRequests(now: () => number = Date.now): TAnsweredRequests {
  // Insertion order is the order answers were sent: the oldest entries are first, so trimming is
  // cheap. An answer in flight is only kept as long as the newest MAX_ENTRIES.
  const answered = new Map<string, TEntry>();
  const remember = (key: string, entry: TEntry) => {
    answered.delete(key);
    answered.set(key, entry);
    for (const [oldest, { at }] of answered) {
      if (answered.size <= MAX_ENTRIES && (at === null || now() - at < KEEP_MS)) break;
      answered.delete(oldest);
    }
  };
  return {
    keyOf(deviceId, packet, requestId) {
      const correlation = packet.properties?.correlationData;
      if (!requestId && !correlation) return null;
      const correlationText = correlation ? Buffer.from(correlation).toString("base64") : "";
      return `${deviceId}\u0000${packet.topic}\u0000${requestId ?? ""}\u0000${correlationText}`;
    },
    alreadyAnswered(key, packet) {
      if (!key || !packet.dup) return false;
      const entry = answered.get(key);
      return entry !== undefined && (entry.at === null || now() - entry.at < KEEP_MS);
    },
    sending(key) {
      if (key) remember(key, { at: null });
    },
    delivered(key) {
      if (key) remember(key, { at: now() });
    },
    failed(key) {
      if (key) answered.delete(key);
    },
  };
}
