/**
 * Device presence (docs/protocol.md#presence): a connection of its own (clean session, not a
 * shared subscription, so every worker reads every retained message again on each connect)
 * subscribes to the devices' birth / Last Will topics and to what the embedded broker reports of
 * connections, and records each in PostgreSQL; a job marks offline the online devices not heard
 * of in time.
 *
 * What must stay true:
 * - the device a message is about comes from its topic, never from its payload: the broker lets
 *   only device D publish `P/fleet/D/presence`, and nobody but the embedded broker itself
 *   `P/broker/presence/D`, so a device can only ever speak for itself;
 * - messages about one device are recorded in the order they arrived;
 * - a worker that restarts, or loses and re-establishes its broker connection, re-learns from the
 *   retained messages; a broker that crashed sends no Last Will, so presence also expires.
 */
import { PRESENCE_EXPIRY_SECONDS, ZPresenceSchema } from "@fleetdrop/shared/protocol/commands";
import type { TTopics } from "@fleetdrop/shared/topics";
import type { Pool } from "@fleetdrop/db/pool";
import type { MqttClient } from "mqtt";
import type { Logger } from "../logger";
import { startPeriodic, type TPeriodic } from "../jobs/periodic";
import { createMqttClient, type TMqttConnectionOptions } from "../mqtt/connection";
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

export type TPresenceFeature = {
  start(): void;
  stop(): Promise<void>;
  /** Resolves once every message received so far is recorded (tests). */
  settled(): Promise<void>;
  readonly client: MqttClient;
};

export function createPresenceFeature(options: {
  connection: TMqttConnectionOptions;
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

  const client = createMqttClient({ ...options.connection, clientId: `${options.connection.clientId}~devices` });
  client.options.clean = true;
  if (options.connection.protocolVersion === 5) client.options.properties = { sessionExpiryInterval: 0 };
  client.on("connect", () => {
    client
      .subscribeAsync({ [topics.presenceFilter]: { qos: 1 }, [topics.brokerPresenceFilter]: { qos: 1 } })
      .then((granted) => {
        const refused = granted.filter((grant) => grant.qos > 2).map((grant) => grant.topic);
        if (refused.length > 0) log.error({ filters: refused }, "the broker refused the presence topics: device presence is not recorded");
      })
      .catch((error: unknown) => log.warn({ err: error }, "could not subscribe to device presence"));
  });
  client.on("error", (error) => log.warn({ err: error }, "presence connection error"));

  // One chain per device keeps its messages in order; different devices are recorded in parallel.
  const chains = new Map<string, Promise<void>>();
  client.on("message", (topic, payload, packet) => {
    const about = topics.parsePresence(topic);
    if (!about || payload.length === 0 || payload.length > MAX_PAYLOAD_BYTES) return;
    let online: boolean;
    try {
      const parsed = ZPresenceSchema.safeParse(JSON.parse(payload.toString("utf8")));
      if (!parsed.success) return;
      online = parsed.data.online;
    } catch {
      return; // not JSON: not a presence message
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
  });

  let expiry: TPeriodic | null = null;
  return {
    client,
    start() {
      expiry = startPeriodic(
        "presence-expiry",
        settings.expiryCheckMs,
        async () => {
          for (const change of await expirePresence(pool)) report(change);
        },
        log,
      );
      client.connect();
    },
    async settled() {
      while (chains.size > 0) await Promise.all(chains.values());
    },
    async stop() {
      await expiry?.stop();
      await client.endAsync(true).catch(() => {});
      await Promise.all(chains.values());
    },
  };
}
