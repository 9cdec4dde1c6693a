import "server-only";
import { isServiceClientId } from "@fleetdrop/shared/acl";
import mqtt, { type MqttClient } from "mqtt";
import { env } from "@/env";

/** The broker could not take the message: the caller says "try again", nothing was sent. */
export class BrokerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BrokerUnavailableError";
  }
}

export type TPublish = (topic: string, payload: Record<string, unknown>) => Promise<void>;
export type TReadRetained = (topic: string, timeoutMs?: number) => Promise<Buffer | null>;

const PUBLISH_TIMEOUT_MS = 5_000;

/**
 * The app's client id. A broker that binds each service account to its own client id (the
 * shipped Mosquitto: the account `fleetdrop-web:1` connects only as `fleetdrop-web:1`) admits
 * nothing else, and a second connection with it would push the first off: so with such an
 * account the client id is the username, and the app keeps one connection. Otherwise (the
 * embedded broker's `fleetdrop-web` account) any `fleetdrop-web:…` id, never a device id.
 */
export function webClientId(username: string | undefined): string {
  if (username && isServiceClientId(username)) return username;
  return `fleetdrop-web:${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The app's broker connection, opened lazily (MQTT 3.1.1, which both the embedded broker and
 * Mosquitto speak): publishes QoS 1 messages (resolved once the broker acknowledged them) and
 * reads retained messages, on the one connection.
 */
export function createCommandPublisher(options: { url: string; username?: string; password?: string; clientId?: string }): {
  publish: TPublish;
  readRetained: TReadRetained;
  close(): Promise<void>;
} {
  let client: MqttClient | undefined;
  /** Readers per topic: the subscription is dropped when the last one is done. */
  const readers = new Map<string, number>();
  const connection = () => {
    client ??= mqtt.connect(options.url, {
      clientId: options.clientId ?? webClientId(options.username),
      username: options.username,
      password: options.password,
      protocolVersion: 4,
      connectTimeout: PUBLISH_TIMEOUT_MS,
      reconnectPeriod: 2_000,
    });
    client.on("error", () => {}); // reported per publish
    return client;
  };
  return {
    async publish(topic, payload) {
      const c = connection();
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new BrokerUnavailableError(`the MQTT broker did not acknowledge within ${PUBLISH_TIMEOUT_MS / 1000} s`)),
          PUBLISH_TIMEOUT_MS,
        ).unref(),
      );
      try {
        await Promise.race([c.publishAsync(topic, JSON.stringify(payload), { qos: 1 }), timeout]);
      } catch (error) {
        throw error instanceof BrokerUnavailableError
          ? error
          : new BrokerUnavailableError("the MQTT broker refused or dropped the message", { cause: error });
      }
    },
    /**
     * The retained message on `topic`, or null when there is none (or the broker does not answer
     * within `timeoutMs`). The broker sends a retained message right after the SUBACK (again on
     * every SUBSCRIBE), so "nothing shortly after it" means "nothing retained".
     */
    readRetained(topic, timeoutMs = 1_500) {
      const c = connection();
      return new Promise<Buffer | null>((resolve) => {
        let settled = false;
        const onMessage = (received: string, payload: Buffer, packet: { retain?: boolean }) => {
          if (received === topic && packet.retain) done(payload);
        };
        const timer = setTimeout(() => done(null), timeoutMs);
        const done = (value: Buffer | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          c.off("message", onMessage);
          const left = (readers.get(topic) ?? 1) - 1;
          if (left > 0) readers.set(topic, left);
          else {
            readers.delete(topic);
            if (c.connected) c.unsubscribe(topic);
          }
          resolve(value);
        };
        c.on("message", onMessage);
        readers.set(topic, (readers.get(topic) ?? 0) + 1);
        c.subscribe(topic, { qos: 1 }, (error) => {
          if (error) done(null);
          // Retained messages come right after SUBACK; give them a moment, then stop waiting.
          else setTimeout(() => done(null), 300).unref();
        });
      });
    },
    async close() {
      await client?.endAsync(true);
      client = undefined;
    },
  };
}

let shared: ReturnType<typeof createCommandPublisher> | undefined;

/** True when MQTT_URL is set (capture needs it). */
export function commandsEnabled(): boolean {
  return Boolean(env.MQTT_URL);
}

/** Publishes a command with the app's connection (MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD). */
export const publishCommand: TPublish = (topic, payload) => {
  if (!env.MQTT_URL) return Promise.reject(new BrokerUnavailableError("MQTT_URL is not configured"));
  shared ??= createCommandPublisher({ url: env.MQTT_URL, username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD });
  return shared.publish(topic, payload);
};

/** Reads a retained message with the app's connection; null without a broker. */
export const readRetained: TReadRetained = (topic, timeoutMs) => {
  if (!env.MQTT_URL) return Promise.resolve(null);
  shared ??= createCommandPublisher({ url: env.MQTT_URL, username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD });
  return shared.readRetained(topic, timeoutMs);
};
