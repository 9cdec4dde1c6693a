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
 * This relies on `MqttClient#_sendPacket`, an internal of mqtt.js: the catalog pins mqtt to an
 * exact version and `deferred-ack.integration.test.ts` fails if the behaviour changes.
 */
import type { IPublishPacket, MqttClient } from "mqtt";
import { MessageIdSlots } from "./message-id-slots";

type TSendPacket = (packet: { cmd: string; messageId?: number }, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

type TPendingAck = {
  generation: number;
  settled: boolean;
  /** The PUBACK mqtt.js tried to send, held until the handler settles. */
  held?: { packet: { cmd: string; messageId?: number }; rest: unknown[] };
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
  const internal = client as unknown as { _sendPacket: TSendPacket };
  const originalSend = internal._sendPacket;
  if (typeof originalSend !== "function") {
    throw new Error("mqtt.js internals changed: MqttClient#_sendPacket is missing (check the pinned mqtt version)");
  }

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
    originalSend.call(client, entry.held.packet, undefined, ...entry.held.rest);
  };

  internal._sendPacket = function deferredSend(this: MqttClient, packet, cb, ...rest) {
    if (packet.cmd === "puback" && packet.messageId !== undefined) {
      const entry = pending.get(packet.messageId);
      if (entry && entry.generation === generation) {
        // Tell mqtt.js the PUBACK went out so it reads the next packet; send it later.
        entry.held = { packet, rest };
        cb?.();
        if (entry.settled) release(packet.messageId, entry);
        return;
      }
    }
    return originalSend.call(this, packet, cb, ...rest);
  };

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
