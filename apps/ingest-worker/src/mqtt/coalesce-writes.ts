/**
 * Coalesces the packets written in one burst into one socket write.
 *
 * When a database batch settles, dozens of handlers publish their answer and release their
 * PUBACK within the same few ticks. mqtt.js writes each packet as its own `writev` system call
 * (mqtt-packet corks the socket only until the next tick), and under load those calls were
 * about a quarter of the worker's CPU. Corking the socket until the event loop moves on turns
 * the burst into one `writev`. Nothing is delayed beyond the current turn of the event loop.
 */
import { corkConnection } from "@fleetdrop/mqtt-internals";
import type { MqttClient } from "mqtt";

export function createWriteCoalescer(client: MqttClient): () => void {
  let uncork: (() => void) | null = null;
  return function coalesceUntilNextTurn() {
    if (uncork) return;
    uncork = corkConnection(client);
    if (!uncork) return;
    setImmediate(() => {
      const release = uncork;
      uncork = null;
      release?.();
    });
  };
}
