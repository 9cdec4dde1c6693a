/**
 * Keeps the worker's memory flat whatever devices send: at most `limitBytes` of message payloads
 * are held by handlers at once (file segments of up to a few hundred KiB, chunks). Above it the
 * worker stops reading from the broker until handlers finish; TCP back-pressure then leaves the
 * rest queued at the broker, which is where unacknowledged QoS 1 messages belong anyway.
 *
 * How: mqtt.js reads the next packet only after `handleMessage`'s callback ran. The deferred-ack
 * layer (src/mqtt/deferred-ack.ts) calls that callback at once so that many messages are handled
 * concurrently; this wrapper, installed around it, holds the callback while the budget is spent.
 * Nothing else changes: the PUBACK still goes out only after the message's handler settled.
 */
import type { IPublishPacket, MqttClient } from "mqtt";

export type TInboundBudget = {
  /** Counts the packet's payload against the budget until `handling` settles. */
  track<T>(packet: IPublishPacket, handling: Promise<T>): Promise<T>;
  /** Wraps the client's handleMessage (call after installDeferredAcks). */
  install(client: MqttClient): void;
  /** Payload bytes held by handlers right now. */
  readonly heldBytes: number;
  /** Most payload bytes ever held at once (for tests and metrics). */
  readonly peakBytes: number;
};

export function createInboundBudget(limitBytes: number): TInboundBudget {
  let held = 0;
  let peak = 0;
  let waiters: (() => void)[] = [];

  const release = (bytes: number) => {
    held -= bytes;
    if (held <= limitBytes && waiters.length > 0) {
      const ready = waiters;
      waiters = [];
      for (const resume of ready) resume();
    }
  };

  return {
    get heldBytes() {
      return held;
    },
    get peakBytes() {
      return peak;
    },
    track(packet, handling) {
      const bytes = packet.payload.length;
      held += bytes;
      if (held > peak) peak = held;
      return handling.finally(() => release(bytes));
    },
    install(client) {
      const inner = client.handleMessage.bind(client);
      client.handleMessage = (packet, callback) => {
        inner(packet, (error?: Error) => {
          // The handler of this packet starts right after this callback returns, so decide on
          // the next microtask, once its bytes are counted.
          queueMicrotask(() => {
            if (held <= limitBytes) callback(error);
            else waiters.push(() => callback(error));
          });
        });
      };
    },
  };
}
