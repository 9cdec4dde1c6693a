/**
 * The worker's persistent MQTT session on a real Mosquitto:
 *   - a change of MQTT_SHARED_GROUP leaves no subscription of the old group in the session
 *     (each request is handled and answered once, not once per group);
 *   - another connection with the worker's client id (a takeover) makes /healthz not ready and
 *     is counted in /metrics, and the worker resubscribes when the takeover wiped its session.
 */
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TIngestWorker, TIngestWorkerConfig } from "../src/worker";
import { freePort } from "@fleetdrop/test-broker";
import { createHarness, rawDevice, sleep, type THarness } from "./harness";

const CLIENT_ID = "fleetdrop-ingest:session";
let h: THarness;
const others: MqttClient[] = [];

beforeAll(async () => {
  h = await createHarness("mqtt-session");
});

afterAll(async () => {
  await Promise.all(others.map((client) => client.endAsync(true).catch(() => {})));
  await h?.close();
});

const mqttConfig = (sharedGroup: string): TIngestWorkerConfig["mqtt"] => ({
  url: h.broker.url,
  clientId: CLIENT_ID,
  protocolVersion: 5,
  sessionExpirySeconds: 3600,
  receiveMaximum: 100,
  sharedGroup,
});

async function waitFor<T>(get: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let worker: TIngestWorker;

describe("worker session: present at the broker, but nothing recorded of it", () => {
  for (const protocolVersion of [5, 4] as const) {
    it(`starts it clean, so what it held is not handled twice (MQTT ${protocolVersion === 5 ? "5" : "3.1.1"})`, async () => {
      const clientId = `fleetdrop-ingest:unrecorded-${protocolVersion}`;
      // A session left by an earlier configuration, which the worker has no record of.
      const earlier = await mqtt.connectAsync(h.broker.url, {
        clientId,
        protocolVersion,
        clean: false,
        reconnectPeriod: 0,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      });
      await earlier.subscribeAsync("$share/earlier/fleetdrop/fleet/+/file_upload/request", { qos: 1 });
      await earlier.endAsync();
      const fresh = await h.startWorker({ mqtt: { ...mqttConfig("fresh"), clientId, protocolVersion }, http: null });

      const device = await rawDevice(h.broker, h.seed.deviceA);
      const ids = Array.from({ length: 5 }, (_, index) => `unrecorded-${protocolVersion}-${index}`);
      for (const requestId of ids)
        await device.send("file_upload/request", { session_id: h.seed.openA, filename: `${requestId}.txt`, request_id: requestId });
      for (const requestId of ids) await device.next((m) => m.body.request_id === requestId);
      expect((await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "last.txt" })).status).toBe(200);
      expect(device.inbox.filter((m) => ids.includes(m.body.request_id as string)).map((m) => m.body.request_id)).toEqual([]);
      await device.close();
      await fresh.stop();
      h.workers.splice(h.workers.indexOf(fresh), 1);
      // End the session so it takes no share of the requests of the tests below.
      await (await mqtt.connectAsync(h.broker.url, { clientId, protocolVersion, clean: true, reconnectPeriod: 0 })).endAsync();
    });
  }
});

describe("worker session: a changed shared group", () => {
  it("answers each request once after MQTT_SHARED_GROUP changed (the old group's subscription is gone)", async () => {
    const first = await h.startWorker({ mqtt: mqttConfig("old-group") });
    await first.stop();
    h.workers.splice(h.workers.indexOf(first), 1);
    worker = await h.startWorker({ mqtt: mqttConfig("new-group") });

    const device = await rawDevice(h.broker, h.seed.deviceA);
    const ids = Array.from({ length: 10 }, (_, index) => `group-${index}`);
    for (const requestId of ids)
      await device.send("file_upload/request", { session_id: h.seed.openA, filename: `${requestId}.txt`, request_id: requestId });
    for (const requestId of ids) await device.next((m) => m.body.request_id === requestId);
    // A last request answered after all the others: a second copy of any of them would be in by now.
    expect((await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "last.txt" })).status).toBe(200);
    expect(device.inbox.filter((m) => ids.includes(m.body.request_id as string)).map((m) => m.body.request_id)).toEqual([]);
    const handled = (await worker.metrics.requests.get()).values
      .filter((value) => value.labels.kind === "uploadRequest")
      .reduce((sum, value) => sum + value.value, 0);
    expect(handled).toBe(ids.length + 1);
    await device.close();
  });
});

describe("worker session: taken over by another connection with its client id", () => {
  const healthz = async () => {
    const response = await fetch(`http://127.0.0.1:${h.httpPort}/healthz`);
    return { status: response.status, body: (await response.json()) as { checks: { broker: { detail?: string } } } };
  };

  it("is not ready on /healthz after a takeover, counts it in /metrics, and resubscribes when the takeover wiped the session", async () => {
    expect((await healthz()).status).toBe(200);
    let reconnects = 0;
    worker.mqtt.on("connect", () => reconnects++);
    // A clean start: the broker drops the worker's session with its subscriptions.
    const impostor = await mqtt.connectAsync(h.broker.url, { clientId: CLIENT_ID, protocolVersion: 5, clean: true, reconnectPeriod: 0 });
    others.push(impostor);
    await waitFor(() => reconnects > 0, "the worker to reconnect");

    const health = await healthz();
    expect(health.status).toBe(503);
    expect(health.body.checks.broker.detail).toMatch(/lost the session/);
    // Mosquitto 2.0 closes the connection without a DISCONNECT reason (MQTT 5 would allow 142).
    const metrics = await (await fetch(`http://127.0.0.1:${h.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^fleetdrop_broker_disconnects_total\{reason="(taken_over|connection_lost)"\} 1$/m);

    // The worker subscribed again: a request is answered.
    const device = await rawDevice(h.broker, h.seed.deviceB);
    expect((await device.ask("file_upload/request", { session_id: h.seed.openB, filename: "after.txt" })).status).toBe(200);
    await device.close();
  });

  it("is not ready while another client keeps taking the session over without a clean start", async () => {
    const clientId = "fleetdrop-ingest:flapping";
    const port = await freePort();
    const flapping = await h.startWorker({ mqtt: { ...mqttConfig("flapping"), clientId }, http: { host: "127.0.0.1", port } });
    let reconnects = 0;
    flapping.mqtt.on("connect", () => reconnects++);
    for (let round = 1; round <= 3; round++) {
      // Each connection takes the session (kept) from the worker, which takes it back a second later.
      const impostor = await mqtt.connectAsync(h.broker.url, {
        clientId,
        protocolVersion: 5,
        clean: false,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 3600 },
      });
      others.push(impostor);
      await waitFor(() => reconnects >= round, `the worker to take its session back (${round})`);
    }
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { checks: { broker: { detail?: string } } }).checks.broker.detail).toMatch(/dropped 3 times/);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^fleetdrop_broker_disconnects_total\{reason="(taken_over|connection_lost)"\} 3$/m);
  });
});
