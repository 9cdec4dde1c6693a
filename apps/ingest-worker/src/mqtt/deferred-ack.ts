/**
 * Acknowledge a QoS 1 request only after it was handled, while handling many at once.
 *
 * mqtt.js sends the PUBACK when `handleMessage`'s callback runs, and it does not read the next
 * packet until then: waiting there would serialise the worker to one request per database
 * round trip. So the callback runs at once (the client reads on), and the PUBACK it emits is
 * held back until the handler settles. A PUBACK is never sent on a connection other than the
 * one the message arrived on: after a reconnect the broker redelivers what was not acknowledged,
 * and handling is idempotent.
 *
 * Holding the PUBACK relies on an mqtt.js internal, reached through @fleetdrop/mqtt-internals
 * (whose test checks that behaviour); `deferred-ack.integration.test.ts` checks the whole.
 */
import { interceptOutgoingPackets } from "@fleetdrop/mqtt-internals";
import type { IPublishPacket, MqttClient } from "mqtt";
import { MessageIdSlots } from "./message-id-slots";

type TPendingAck = {
  generation: number;
  settled: boolean;
  /** Sends the PUBACK mqtt.js tried to send, held until the handler settles. */
  held?: () => void;
  /** false: the handler asked for redelivery (e.g. while shutting down). */
  acknowledge: boolean;
};

export type TDeferredAckOptions = {
  /** Handles one message; its settling releases the PUBACK. */
  handle(packet: IPublishPacket): Promise<void>;
  /** While true, new messages are neither handled nor acknowledged (the broker keeps them). */
  isDraining?(): boolean;
};

export type TDeferredAcks = {
  /** Messages being handled right now. */
  readonly inFlight: number;
  /** Resolves when no handler is running. */
  idle(): Promise<void>;
};

export function installDeferredAcks(client: MqttClient, options: TDeferredAckOptions): TDeferredAcks {
  let generation = 0;
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  // By packet identifier; not a Map, which would keep handled requests alive (see message-id-slots.ts).
  const pending = new MessageIdSlots<TPendingAck>();

  const bumpGeneration = () => {
    generation++;
    pending.clear();
  };
  client.on("close", bumpGeneration);
  client.on("connect", bumpGeneration);

  const release = (messageId: number, entry: TPendingAck) => {
    if (pending.get(messageId) === entry) pending.delete(messageId);
    if (!entry.acknowledge || entry.generation !== generation || !client.connected || !entry.held) return;
    entry.held();
  };

  interceptOutgoingPackets(client, (packet) => {
    const { messageId } = packet;
    if (packet.cmd !== "puback" || messageId === undefined) return undefined;
    const entry = pending.get(messageId);
    if (!entry || entry.generation !== generation) return undefined;
    // mqtt.js counts the PUBACK as sent, so it reads the next packet; it goes out when the handler settles.
    return (send) => {
      entry.held = send;
      if (entry.settled) release(messageId, entry);
    };
  });

  const finishOne = () => {
    inFlight--;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  client.handleMessage = (packet, callback) => {
    const { messageId } = packet;
    if (packet.qos === 0 || messageId === undefined) {
      if (!options.isDraining?.()) {
        inFlight++;
        options
          .handle(packet)
          .catch(() => {})
          .finally(finishOne);
      }
      callback();
      return;
    }
    const entry: TPendingAck = { generation, settled: false, acknowledge: true };
    pending.set(messageId, entry);
    if (options.isDraining?.()) {
      // Leave it unacknowledged: the broker delivers it again after we reconnect (or to
      // another worker of the shared subscription).
      entry.acknowledge = false;
      entry.settled = true;
      callback();
      return;
    }
    inFlight++;
    callback();
    options
      .handle(packet)
      .catch(() => {
        // The handler answers errors itself; a throw here means "do not acknowledge".
        entry.acknowledge = false;
      })
      .finally(() => {
        entry.settled = true;
        release(messageId, entry);
        finishOne();
      });
  };

  return {
    get inFlight() {
      return inFlight;
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
