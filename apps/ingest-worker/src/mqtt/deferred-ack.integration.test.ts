import { startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import { dropConnection } from "@fleetdrop/mqtt-internals";
import mqtt, { type IPublishPacket, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installDeferredAcks } from "./deferred-ack";

let broker: TMosquitto;

beforeAll(async () => {
  broker = await startMosquitto();
});

afterAll(async () => {
  await broker?.stop();
  await broker?.cleanup();
});

function consumer(clientId: string, handle: (packet: IPublishPacket) => Promise<void>, protocolVersion: 4 | 5 = 5) {
  const client = mqtt.connect(broker.url, {
    clientId,
    clean: false,
    protocolVersion,
    manualConnect: true,
    reconnectPeriod: 0,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 600 } } : {}),
  });
  const acks = installDeferredAcks(client, { handle });
  client.connect();
  return { client, acks, connected: new Promise<void>((resolve) => client.once("connect", () => resolve())) };
}

async function publisher(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { clientId: `pub-${Math.random()}` });
  return client;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([4, 5] as const)("deferred PUBACKs (MQTT %i)", (protocolVersion) => {
  it("redeliver a message whose handler had not finished when the connection dropped", async () => {
    const clientId = `deferred-${protocolVersion}-${Date.now()}`;
    const seen: string[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const first = consumer(
      clientId,
      async (packet) => {
        seen.push(packet.payload.toString());
        await blocked;
      },
      protocolVersion,
    );
    await first.connected;
    await first.client.subscribeAsync("t/req", { qos: 1 });
    const pub = await publisher();
    await pub.publishAsync("t/req", "one", { qos: 1 });
    while (seen.length < 1) await sleep(10);
    // The handler is still running: drop the connection as a crash would.
    dropConnection(first.client);
    await first.client.endAsync(true);
    release();

    const redelivered: string[] = [];
    const second = consumer(
      clientId,
      async (packet) => {
        redelivered.push(packet.payload.toString());
      },
      protocolVersion,
    );
    await second.connected;
    for (let i = 0; i < 100 && redelivered.length === 0; i++) await sleep(20);
    expect(redelivered).toEqual(["one"]);

    // Handled and acknowledged now: a third connection gets nothing more.
    await sleep(100);
    await second.client.endAsync();
    const third: string[] = [];
    const last = consumer(
      clientId,
      async (packet) => {
        third.push(packet.payload.toString());
      },
      protocolVersion,
    );
    await last.connected;
    await sleep(300);
    expect(third).toEqual([]);
    await last.client.endAsync();
    await pub.endAsync();
  });

  it("handle many messages at once instead of one per handler round trip", async () => {
    let running = 0;
    let maxRunning = 0;
    let handled = 0;
    const c = consumer(
      `concurrent-${protocolVersion}-${Date.now()}`,
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(30);
        running--;
        handled++;
      },
      protocolVersion,
    );
    await c.connected;
    await c.client.subscribeAsync("t/many", { qos: 1 });
    const pub = await publisher();
    await Promise.all(Array.from({ length: 40 }, (_, i) => pub.publishAsync("t/many", String(i), { qos: 1 })));
    while (handled < 40) await sleep(10);
    expect(maxRunning).toBeGreaterThan(5);
    await c.acks.idle();
    expect(c.acks.inFlight).toBe(0);
    await c.client.endAsync();
    await pub.endAsync();
  });
});
