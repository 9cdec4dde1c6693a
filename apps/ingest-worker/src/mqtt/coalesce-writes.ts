/**
 * Coalesces the packets written in one burst into one socket write.
 *
 * When a database batch settles, dozens of handlers publish their answer and release their
 * PUBACK within the same few ticks. mqtt.js writes each packet as its own `writev` system call
 * (mqtt-packet corks the socket only until the next tick), and under load those calls were
 * about a quarter of the worker's CPU. Corking the socket until the event loop moves on turns
 * the burst into one `writev`. Nothing is delayed beyond the current turn of the event loop.
 */
import type { MqttClient } from "mqtt";

type TCorkable = { cork?: () => void; uncork?: () => void; destroyed?: boolean };

export function createWriteCoalescer(client: MqttClient): () => void {
  let corked: TCorkable | null = null;
  return function coalesceUntilNextTurn() {
    if (corked) return;
    const stream = client.stream as unknown as TCorkable | undefined;
    if (!stream?.cork || !stream.uncork || stream.destroyed) return;
    stream.cork();
    corked = stream;
    setImmediate(() => {
      const held = corked;
      corked = null;
      held?.uncork?.();
    });
  };
}
