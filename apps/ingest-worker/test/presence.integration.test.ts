import { dropConnection } from "@fleetdrop/mqtt-internals";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TPresenceChange } from "../src/presence/record";
import type { TIngestWorker } from "../src/worker";
import { createHarness, sleep, type THarness } from "./harness";

let h: THarness;
let worker: TIngestWorker;
const changes: TPresenceChange[] = [];
const clients: MqttClient[] = [];

const presenceTopic = (serial: string) => `fleetdrop/fleet/${serial}/presence`;
const row = (serial: string) =>
  h.prisma.device.findUniqueOrThrow({
    where: { serial },
    select: { presenceOnline: true, presenceVia: true, presenceSince: true, presenceExpiresAt: true },
  });

/** A device connection as the SDK makes it: a retained Last Will saying offline, then a retained birth. */
async function connectDevice(serial: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(h.broker.url, {
    clientId: serial,
    protocolVersion: 5,
    reconnectPeriod: 0,
    will: { topic: presenceTopic(serial), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  });
  clients.push(client);
  await client.publishAsync(presenceTopic(serial), JSON.stringify({ online: true }), { qos: 1, retain: true });
  return client;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

const startWorker = (overrides: Parameters<THarness["startWorker"]>[0] = {}) =>
  h.startWorker({ presence: { expirySeconds: 3600, expiryCheckMs: 200 }, ...overrides }, { onPresenceChange: (c) => changes.push(c) });

beforeAll(async () => {
  h = await createHarness("presence");
  worker = await startWorker();
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => {});
  await h?.close();
});

describe("device presence", () => {
  it("records a birth message as online and a Last Will as offline, each transition once", async () => {
    const device = await connectDevice("ROBOT-A");
    const online = await until(
      () => row("ROBOT-A"),
      (r) => r.presenceOnline === true,
    );
    expect(online.presenceVia).toBe("device");
    expect(online.presenceExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 3000 * 1000);
    // A birth repeated (the SDK's refresh) changes nothing: still online since the first.
    await device.publishAsync(presenceTopic("ROBOT-A"), JSON.stringify({ online: true }), { qos: 1, retain: true });
    await sleep(200);
    await worker.presenceSettled();
    expect((await row("ROBOT-A")).presenceSince).toEqual(online.presenceSince);

    // The device drops without a word: the broker publishes its Last Will.
    dropConnection(device);
    const offline = await until(
      () => row("ROBOT-A"),
      (r) => r.presenceOnline === false,
    );
    expect(offline.presenceVia).toBe("device");
    expect(offline.presenceExpiresAt).toBeNull();
    expect(changes.filter((c) => c.serial === "ROBOT-A").map((c) => c.online)).toEqual([true, false]);
  });

  it("takes the device from the topic, never from the payload, and ignores what is not a presence message", async () => {
    const device = await connectDevice("ROBOT-B");
    await until(
      () => row("ROBOT-B"),
      (r) => r.presenceOnline === true,
    );
    // ROBOT-B speaks only for itself: a payload naming ROBOT-A still reports ROBOT-B.
    await device.publishAsync(presenceTopic("ROBOT-B"), JSON.stringify({ online: false, device: "ROBOT-A", serial: "ROBOT-A" }), {
      qos: 1,
    });
    await until(
      () => row("ROBOT-B"),
      (r) => r.presenceOnline === false,
    );
    expect((await row("ROBOT-A")).presenceOnline).toBe(false);
    for (const junk of ["online", "{}", '{"online":"yes"}', "[true]", `{"online":true,"pad":"${"x".repeat(2000)}"}`])
      await device.publishAsync(presenceTopic("ROBOT-B"), junk, { qos: 1 });
    await device.publishAsync("fleetdrop/fleet/ROBOT-B/presence/extra", '{"online":true}', { qos: 1 });
    await device.publishAsync("fleetdrop/fleet/NO-SUCH-DEVICE/presence", '{"online":true}', { qos: 1 });
    await sleep(300);
    await worker.presenceSettled();
    expect((await row("ROBOT-B")).presenceOnline).toBe(false);
    await device.endAsync();
  });

  it("re-learns presence from the retained messages after a restart", async () => {
    await worker.stop();
    h.workers.splice(h.workers.indexOf(worker), 1);
    // While no worker runs, ROBOT-A comes back.
    await connectDevice("ROBOT-A");
    await sleep(200);
    expect((await row("ROBOT-A")).presenceOnline).toBe(false);
    worker = await startWorker();
    await until(
      () => row("ROBOT-A"),
      (r) => r.presenceOnline === true,
    );
  });

  it("counts a device offline when nothing refreshes its presence in time (a broker crash sends no Last Will)", async () => {
    await worker.stop();
    h.workers.splice(h.workers.indexOf(worker), 1);
    changes.length = 0;
    worker = await startWorker({ presence: { expirySeconds: 1, expiryCheckMs: 200 } });
    const expired = await until(
      () => row("ROBOT-A"),
      (r) => r.presenceOnline === false,
    );
    expect(expired.presenceVia).toBe("expired");
    // ROBOT-A's birth is still retained (online), yet the replay on a restart does not revive it:
    // only a message the device sends now does.
    await worker.stop();
    h.workers.splice(h.workers.indexOf(worker), 1);
    worker = await startWorker({ presence: { expirySeconds: 1, expiryCheckMs: 200 } });
    await sleep(500);
    await worker.presenceSettled();
    expect((await row("ROBOT-A")).presenceVia).toBe("expired");
    const again = clients.at(-1)!;
    await again.publishAsync(presenceTopic("ROBOT-A"), JSON.stringify({ online: true }), { qos: 1, retain: true });
    await until(
      () => row("ROBOT-A"),
      (r) => r.presenceOnline === true,
    );
    expect(changes.filter((c) => c.serial === "ROBOT-A").map((c) => [c.online, c.via])).toEqual([
      [false, "expired"],
      [true, "device"],
    ]);
  });
});
