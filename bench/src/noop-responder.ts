/**
 * The ceiling of any worker: answers every upload request at once with a fixed body, doing no
 * validation, database or signing work. Same broker, same QoS, same Nagle setting as the worker.
 */
import type { Socket } from "node:net";
import mqtt from "mqtt";

const url = process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883";
const client = mqtt.connect(url, { clientId: "bench-noop-responder", protocolVersion: 5, clean: true });
const body = JSON.stringify({ success: true, status: 200, timestamp: new Date().toISOString(), url: "http://x", fields: {}, object_key: "k", expires_in: 3600, file_id: "f" });
client.on("connect", async () => {
  (client.stream as unknown as Socket).setNoDelay(true);
  await client.subscribeAsync("fleetdrop/fleet/+/file_upload/request", { qos: 1 });
  process.stdout.write("ready\n");
});
client.on("message", (topic, payload) => {
  const device = topic.split("/")[2];
  const requestId = /"request_id":"([^"]*)"/.exec(payload.toString())?.[1];
  client.publish(`fleetdrop/fleet/${device}/file_upload/response`, requestId ? `${body.slice(0, -1)},"request_id":"${requestId}"}` : body, { qos: 1 });
});
process.on("SIGTERM", () => client.end(false, () => process.exit(0)));
