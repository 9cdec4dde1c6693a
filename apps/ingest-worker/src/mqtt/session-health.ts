/**
 * Whether the worker's MQTT session is really its own. A connection that is up is not enough:
 * another client connecting with the worker's client id takes the session over (the broker
 * disconnects the worker, which reconnects and takes it back, over and over), and a clean-start
 * takeover wipes the session's subscriptions and queued requests. /healthz reports not ready
 * while the connection is down, for a while after a takeover or a lost session, and while the
 * connection keeps dropping; /metrics counts every disconnect by reason.
 */
import { isEnding } from "@fleetdrop/mqtt-internals";
import type { MqttClient } from "mqtt";
import type { Counter } from "prom-client";

/** MQTT 5 DISCONNECT reason: another connection with this client id took the session. */
const SESSION_TAKEN_OVER = 142;

export type TSessionHealth = { ok: boolean; detail?: string };

export function watchSessionHealth(
  client: MqttClient,
  options: {
    disconnects: Counter<"reason">;
    /** True once the worker subscribed: a reconnect must then find its session. */
    expectsSession: () => boolean;
    /** How long a takeover, a lost session or flapping keeps the worker not ready. */
    windowMs?: number;
    /** Disconnects within the window that count as flapping (MQTT 3.1.1 brokers give no reason). */
    flappingCount?: number;
    log: { warn(fields: object, message: string): void };
  },
): { status(): TSessionHealth } {
  const windowMs = options.windowMs ?? 30_000;
  const flappingCount = options.flappingCount ?? 3;
  let wasConnected = false;
  let reason: string | null = null;
  let takenOverAt = 0;
  let sessionLostAt = 0;
  const disconnects: number[] = [];

  client.on("disconnect", (packet) => {
    reason = packet.reasonCode === SESSION_TAKEN_OVER ? "taken_over" : "broker_disconnect";
    if (reason === "taken_over") {
      takenOverAt = Date.now();
      options.log.warn({ clientId: client.options.clientId }, "another connection with this client id took over the worker's MQTT session");
    }
  });
  client.on("connect", (connack) => {
    if (options.expectsSession() && !connack.sessionPresent) {
      sessionLostAt = Date.now();
      options.log.warn(
        { clientId: client.options.clientId },
        "the broker no longer had the worker's MQTT session (taken over with a clean start, expired or lost)",
      );
    }
    wasConnected = true;
  });
  client.on("close", () => {
    if (!wasConnected) return;
    wasConnected = false;
    if (isEnding(client)) return; // the worker itself is disconnecting
    options.disconnects.inc({ reason: reason ?? "connection_lost" });
    reason = null;
    disconnects.push(Date.now());
    if (disconnects.length > flappingCount) disconnects.shift();
  });

  return {
    status() {
      const now = Date.now();
      if (!client.connected) return { ok: false, detail: "not connected" };
      if (now - takenOverAt < windowMs) return { ok: false, detail: "another connection with this client id took over the session" };
      if (now - sessionLostAt < windowMs) return { ok: false, detail: "the broker lost the session (requests queued in it are gone)" };
      if (disconnects.length >= flappingCount && now - disconnects[0]! < windowMs)
        return { ok: false, detail: `the connection dropped ${disconnects.length} times in ${windowMs / 1000} s` };
      return { ok: true };
    },
  };
}
