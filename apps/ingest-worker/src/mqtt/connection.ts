/**
 * The worker's MQTT connection: persistent session (requests published while the worker is
 * down wait at the broker), QoS 1, Nagle off (a request/response round trip would otherwise
 * cost 40-80 ms of delayed ACKs).
 */
import { readFileSync } from "node:fs";
import { disableNagle } from "@fleetdrop/mqtt-internals";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { MessageIdStore } from "./message-id-slots";

export type TMqttConnectionOptions = {
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  sessionExpirySeconds: number;
  receiveMaximum: number;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  reconnectPeriodMs?: number;
};

export function createMqttClient(options: TMqttConnectionOptions): MqttClient {
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    protocolVersion: options.protocolVersion,
    // A persistent session: subscriptions and queued QoS 1 requests survive disconnects.
    clean: false,
    username: options.username,
    password: options.password,
    keepalive: 30,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: 10_000,
    resubscribe: true,
    ...(options.protocolVersion === 5
      ? {
          properties: {
            sessionExpiryInterval: options.sessionExpirySeconds,
            receiveMaximum: options.receiveMaximum,
            maximumPacketSize: 1024 * 1024 * 4,
          },
        }
      : {}),
    ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
    ...(options.certFile ? { cert: readFileSync(options.certFile) } : {}),
    ...(options.keyFile ? { key: readFileSync(options.keyFile) } : {}),
    manualConnect: true,
    // Publishes awaiting their PUBACK, in a table that does not keep garbage alive (see there).
    outgoingStore: new MessageIdStore(),
    // mqtt.js logs every packet through the debug module, which allocates its arguments even when
    // nothing is printed: about 4 KB of garbage per request and answer. DEBUG=mqttjs* still works.
    ...(process.env.DEBUG ? {} : { log: () => {} }),
  };
  const client = mqtt.connect(options.url, clientOptions);
  client.on("connect", () => disableNagle(client));
  return client;
}
