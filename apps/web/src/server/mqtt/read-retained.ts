import "server-only";
import mqtt from "mqtt";
import { env } from "@/env";

/**
 * The retained message on `topic`, or null when there is none (or the broker does not answer
 * within `timeoutMs`). One short-lived subscription: the broker sends a retained message right
 * after SUBACK, so "nothing by then" means "nothing retained".
 */
export async function readRetained(topic: string, timeoutMs = 1_500): Promise<Buffer | null> {
  if (!env.MQTT_URL) return null;
  const client = mqtt.connect(env.MQTT_URL, {
    clientId: `fleetdrop-web:read-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    username: env.MQTT_USERNAME,
    password: env.MQTT_PASSWORD,
    protocolVersion: 4,
    connectTimeout: timeoutMs,
    reconnectPeriod: 0,
  });
  client.on("error", () => {});
  try {
    return await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      client.on("message", (received, payload, packet) => {
        if (received !== topic || !packet.retain) return;
        clearTimeout(timer);
        resolve(payload);
      });
      client.on("connect", () => {
        client.subscribe(topic, { qos: 1 }, (error) => {
          if (error) {
            clearTimeout(timer);
            resolve(null);
            return;
          }
          // Retained messages come right after SUBACK; give them a moment, then stop waiting.
          setTimeout(() => {
            clearTimeout(timer);
            resolve(null);
          }, 300);
        });
      });
    });
  } finally {
    client.end(true);
  }
}
