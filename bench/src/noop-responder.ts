/**
 * The ceiling of any worker: answers every upload request at once with a fixed body, doing no
 * validation, database or signing work. Same broker, same QoS, same Nagle setting as the worker.
 * The fixed body has the shape and size of a real answer (a presigned POST form, about 1.1 KB):
 * any worker must send that much, and the broker and the devices pay for every byte of it, so a
 * shorter body would measure a ceiling no worker could reach.
 */
import { disableNagle } from "@fleetdrop/mqtt-internals";
import mqtt from "mqtt";

const url = process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883";
const client = mqtt.connect(url, { clientId: "bench-noop-responder", protocolVersion: 5, clean: true });
const objectKey = "sessions/BENCH-000/000/bench/noop-000-000000.bin";
const body = JSON.stringify({
  success: true,
  status: 200,
  timestamp: new Date().toISOString(),
  url: "http://127.0.0.1:40000/fs/fleetdrop",
  fields: {
    key: objectKey,
    "Content-Type": "application/octet-stream",
    // A base64 policy as long as the real one (its conditions name the key, type, size range and credential).
    policy: Buffer.from("x".repeat(362)).toString("base64"),
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": "fleetdrop/20261123/us-east-1/s3/aws4_request",
    "x-amz-date": "20261123T230816Z",
    "x-amz-signature": "0".repeat(64),
  },
  object_key: objectKey,
  expires_in: 3600,
  file_id: "00000000-0000-4000-8000-000000000000",
});
client.on("connect", () => void onConnect());
async function onConnect() {
  disableNagle(client);
  await client.subscribeAsync("fleetdrop/fleet/+/file_upload/request", { qos: 1 });
  process.stdout.write("ready\n");
}
client.on("message", (topic, payload) => {
  const device = topic.split("/")[2];
  const requestId = /"request_id":"([^"]*)"/.exec(payload.toString())?.[1];
  client.publish(`fleetdrop/fleet/${device}/file_upload/response`, requestId ? `${body.slice(0, -1)},"request_id":"${requestId}"}` : body, {
    qos: 1,
  });
});
process.on("SIGTERM", () => client.end(false, () => process.exit(0)));
