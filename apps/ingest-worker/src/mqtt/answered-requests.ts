/**
 * Requests whose answer the broker has acknowledged, remembered for a while so that a
 * redelivery of the same request (QoS 1, DUP set: the broker restarted, or lost the worker's
 * PUBACK) is handled again — handling is idempotent — but not answered a second time: the
 * broker already holds the first answer and delivers it. A request is known by its device,
 * topic, request_id and MQTT 5 Correlation Data; one carrying neither id is always answered.
 */
import type { IPublishPacket } from "mqtt";

const MAX_ENTRIES = 20_000;
const KEEP_MS = 10 * 60_000;

export type TAnsweredRequests = {
  /** The key of a request that can be recognised again, or null. */
  keyOf(deviceId: string, packet: IPublishPacket, requestId: string | undefined): string | null;
  /** A redelivered request whose answer the broker already acknowledged. */
  alreadyAnswered(key: string | null, packet: IPublishPacket): boolean;
  /** The broker acknowledged the answer to this request. */
  delivered(key: string | null): void;
};

export function createAnsweredRequests(now: () => number = Date.now): TAnsweredRequests {
  // Insertion order is delivery order: the oldest entries are first, so trimming is cheap.
  const answered = new Map<string, number>();
  return {
    keyOf(deviceId, packet, requestId) {
      const correlation = packet.properties?.correlationData;
      if (!requestId && !correlation) return null;
      const correlationText = correlation ? Buffer.from(correlation).toString("base64") : "";
      return `${deviceId}\u0000${packet.topic}\u0000${requestId ?? ""}\u0000${correlationText}`;
    },
    alreadyAnswered(key, packet) {
      if (!key || !packet.dup) return false;
      const at = answered.get(key);
      return at !== undefined && now() - at < KEEP_MS;
    },
    delivered(key) {
      if (!key) return;
      answered.delete(key);
      answered.set(key, now());
      for (const [oldest, at] of answered) {
        if (answered.size <= MAX_ENTRIES && now() - at < KEEP_MS) break;
        answered.delete(oldest);
      }
    },
  };
}
