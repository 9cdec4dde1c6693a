/**
 * The mqtt.js behaviour mqtt-internals.ts relies on, checked against a real Mosquitto: if an
 * mqtt.js upgrade changes any of it, this fails before the worker, the device SDK or the
 * benchmarks misbehave.
 */
import { Socket } from "node:net";
import { startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corkConnection, disableNagle, dropConnection, interceptOutgoingPackets, isEnding, type TOutgoingPacket } from "./mqtt-internals";

let broker: TMosquitto;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await broker?.stop();
  await broker?.cleanup();
});

let sequence = 0;
const uniqueId = (name: string) => `${name}-${process.pid}-${++sequence}`;

async function connected(options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { clientId: uniqueId("client"), reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

const nextEvent = (client: MqttClient, event: "connect" | "close") => new Promise<void>((resolve) => client.once(event, () => resolve()));

function received(client: MqttClient): string[] {
  const payloads: string[] = [];
  client.on("message", (_topic, payload) => payloads.push(payload.toString()));
  return payloads;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("the client's socket (MqttClient#stream)", () => {
  it("is the connection's net.Socket once connected, and a new one after a reconnect", async () => {
    const client = await connected({ reconnectPeriod: 100 });
    const first = client.stream;
    expect(first).toBeInstanceOf(Socket);
    expect(disableNagle(client)).toBe(true);

    dropConnection(client);
    await nextEvent(client, "connect");
    expect(client.stream).toBeInstanceOf(Socket);
    expect(client.stream).not.toBe(first);
    expect(disableNagle(client)).toBe(true);
  });

  it("holds the client's writes while corked and sends them when uncorked", async () => {
    const client = await connected();
    const subscriber = await connected();
    const topic = `internals/${uniqueId("cork")}`;
    await subscriber.subscribeAsync(topic, { qos: 0 });
    const payloads = received(subscriber);

    const uncork = corkConnection(client);
    expect(uncork).not.toBeNull();
    client.publish(topic, "held", { qos: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    const socket = client.stream as Socket;
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBeGreaterThan(0);

    uncork!();
    expect(socket.writableCorked).toBe(0);
    await until(() => payloads.length > 0);
    expect(payloads).toEqual(["held"]);
  });

  it("cannot be corked once the connection is gone", async () => {
    const client = await connected();
    dropConnection(client);
    expect(corkConnection(client)).toBeNull();
  });
});

describe("MqttClient#disconnecting", () => {
  it("is true in the close that end() causes, as the worker configures its client", async () => {
    const client = mqtt.connect(broker.url, { clientId: uniqueId("ending"), manualConnect: true, reconnectPeriod: 1000 });
    clients.push(client);
    const seen: boolean[] = [];
    client.on("close", () => seen.push(isEnding(client)));
    client.connect();
    await nextEvent(client, "connect");
    expect(isEnding(client)).toBe(false);

    await client.endAsync();
    expect(seen).toEqual([true]);
  });

  it("is false in the close of a connection that dropped", async () => {
    const client = await connected({ reconnectPeriod: 100 });
    const seen: boolean[] = [];
    client.on("close", () => seen.push(isEnding(client)));
    dropConnection(client);
    await nextEvent(client, "connect");
    expect(seen).toEqual([false]);
  });
});

describe.each([4, 5] as const)("the client's packet sender (MqttClient#_sendPacket), MQTT %i", (protocolVersion) => {
  const session = (clientId: string): IClientOptions => ({
    clientId,
    protocolVersion,
    clean: false,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 600 } } : {}),
  });

  it("carries the PUBACK of each QoS 1 message; holding it keeps the broker's copy, sending it later acknowledges", async () => {
    const clientId = uniqueId(`acks-${protocolVersion}`);
    const topic = `internals/${clientId}`;
    const publisher = await connected();

    // First connection: every PUBACK is held and never sent.
    const first = mqtt.connect(broker.url, { ...session(clientId), reconnectPeriod: 0, manualConnect: true });
    clients.push(first);
    const heldAcks: TOutgoingPacket[] = [];
    interceptOutgoingPackets(first, (packet) => {
      if (packet.cmd !== "puback") return undefined;
      heldAcks.push(packet);
      return () => {};
    });
    const firstMessageIds: number[] = [];
    first.on("message", (_topic, _payload, packet) => firstMessageIds.push(packet.messageId!));
    first.connect();
    await nextEvent(first, "connect");
    await first.subscribeAsync(topic, { qos: 1 });
    for (const payload of ["one", "two", "three"]) await publisher.publishAsync(topic, payload, { qos: 1 });
    // mqtt.js reads each next message only after the previous one's PUBACK was "sent".
    await until(() => firstMessageIds.length === 3);
    expect(heldAcks.map((packet) => [packet.cmd, packet.messageId])).toEqual(firstMessageIds.map((id) => ["puback", id]));
    dropConnection(first);
    await first.endAsync(true);

    // Second connection: the broker redelivers all three (they were never acknowledged); their
    // PUBACKs are held and sent a moment later.
    const second = mqtt.connect(broker.url, { ...session(clientId), reconnectPeriod: 0, manualConnect: true });
    clients.push(second);
    let sent = 0;
    interceptOutgoingPackets(second, (packet) => {
      if (packet.cmd !== "puback") return undefined;
      return (send) =>
        setImmediate(() => {
          send();
          sent++;
        });
    });
    const redelivered = received(second);
    second.connect();
    await until(() => sent === 3);
    expect(redelivered).toEqual(["one", "two", "three"]);
    await second.endAsync();

    // Third connection: only what was published since, so the late PUBACKs reached the broker.
    await publisher.publishAsync(topic, "after", { qos: 1 });
    const third = mqtt.connect(broker.url, { ...session(clientId), reconnectPeriod: 0 });
    clients.push(third);
    const afterwards = received(third);
    await until(() => afterwards.length > 0);
    expect(afterwards).toEqual(["after"]);
  });
});
