/**
 * Device presence (docs/protocol.md#presence): the worker's own broker connection also holds a
 * plain (not shared) subscription to the devices' birth / Last Will topics and to what the
 * embedded broker reports of connections, so every worker hears every message, and each is
 * recorded in PostgreSQL before it is acknowledged; a job marks offline the online devices not
 * heard of in time. It is the worker's one connection: a broker that binds the worker's account
 * to its client id (deploy/mosquitto, the embedded broker) admits no second one.
 *
 * What must stay true:
 * - the device a message is about comes from its topic, never from its payload: the broker lets
 *   only device D publish `P/fleet/D/presence`, and nobody but the embedded broker itself
 *   `P/broker/presence/D`, so a device can only ever speak for itself;
 * - messages about one device are recorded in the order they arrived;
 * - a worker re-learns from the retained messages whenever it subscribes again (each connect);
 *   what devices said while it was away waits in its session; a broker that crashed sends no
 *   Last Will, so presence also expires.
 */
import { PRESENCE_EXPIRY_SECONDS, ZPresenceSchema } from "@fleetdrop/shared/protocol/commands";
import type { TTopics } from "@fleetdrop/shared/topics";
import type { Pool } from "@fleetdrop/db/pool";
import type { IPublishPacket } from "mqtt";
import type { Logger } from "../logger";
import type { TWorkerFeature } from "../feature";
import { expirePresence, recordPresence, type TPresenceChange } from "./record";
import { devicePresenceChanged } from "./transition";

export type TPresenceSettings = {
  /** An online device not heard of for this long counts as offline (default PRESENCE_EXPIRY_SECONDS). */
  expirySeconds: number;
  /** How often expired presence is looked for. */
  expiryCheckMs: number;
};

export const DEFAULT_PRESENCE_SETTINGS: TPresenceSettings = { expirySeconds: PRESENCE_EXPIRY_SECONDS, expiryCheckMs: 30_000 };

/** Presence payloads are tiny; anything larger is not one. */
const MAX_PAYLOAD_BYTES = 1024;

export type TPresenceFeature = TWorkerFeature & {
  /** Filters the worker's connection subscribes to (plain subscriptions, QoS 1). */
  readonly filters: string[];
  /** Whether a message on this topic is this feature's. */
  handles(topic: string): boolean;
  /** Records a presence message; resolves once it is recorded (or refused), so it can be acknowledged. */
  onMessage(packet: IPublishPacket): Promise<void>;
  /** Resolves once every message received so far is recorded (tests). */
  settled(): Promise<void>;
};

export function createPresenceFeature(options: {
  topics: TTopics;
  pool: Pool;
  log: Logger;
  settings?: Partial<TPresenceSettings>;
  onChange?: (change: TPresenceChange) => void;
}): TPresenceFeature {
  const settings = { ...DEFAULT_PRESENCE_SETTINGS, ...options.settings };
  const { topics, pool, log } = options;
  const report = (change: TPresenceChange | null): void => {
    if (change) devicePresenceChanged({ log, onChange: options.onChange }, change);
  };

  // One chain per device keeps its messages in order; different devices are recorded in parallel.
  const chains = new Map<string, Promise<void>>();
  const onMessage = (packet: IPublishPacket): Promise<void> => {
    const about = topics.parsePresence(packet.topic);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (!about || payload.length === 0 || payload.length > MAX_PAYLOAD_BYTES) return Promise.resolve();
    let online: boolean;
    try {
      const parsed = ZPresenceSchema.safeParse(JSON.parse(payload.toString("utf8")));
      if (!parsed.success) return Promise.resolve();
      online = parsed.data.online;
    } catch {
      return Promise.resolve(); // not JSON: not a presence message
    }
    const at = new Date();
    const previous = chains.get(about.deviceId) ?? Promise.resolve();
    const next = previous
      .then(() =>
        recordPresence(pool, {
          serial: about.deviceId,
          online,
          via: about.via,
          at,
          expirySeconds: settings.expirySeconds,
          replayed: packet.retain,
        }),
      )
      .then(report)
      .catch((error: unknown) => log.warn({ err: error, device: about.deviceId }, "could not record device presence"))
      .finally(() => {
        if (chains.get(about.deviceId) === next) chains.delete(about.deviceId);
      });
    chains.set(about.deviceId, next);
    return next;
  };

  return {
    name: "presence",
    filters: [topics.presenceFilter, topics.brokerPresenceFilter],
    handles: (topic) => topics.parsePresence(topic) !== null,
    onMessage,
    jobs: [
      {
        name: "presence-expiry",
        intervalMs: settings.expiryCheckMs,
        async run() {
          for (const change of await expirePresence(pool)) report(change);
        },
      },
    ],
    async settled() {
      while (chains.size > 0) await Promise.all(chains.values());
    },
    async stop() {
      await Promise.all(chains.values());
    },
  };
}
