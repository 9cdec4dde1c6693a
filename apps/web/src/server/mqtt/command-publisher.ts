import "server-only";
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

const PUBLISH_TIMEOUT_MS = 5_000;

/**
 * Publishes QoS 1 messages to `url` with one lazily opened connection (MQTT 3.1.1, which both
 * the embedded broker and Mosquitto speak). Resolves once the broker acknowledged the message.
 */
export function createCommandPublisher(options: { url: string; username?: string; password?: string; clientId?: string }): {
  publish: TPublish;
  close(): Promise<void>;
} {
  let client: MqttClient | undefined;
  const connection = () => {
    client ??= mqtt.connect(options.url, {
      clientId: options.clientId ?? `fleetdrop-web:${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
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
