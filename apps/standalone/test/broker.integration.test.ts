/**
 * The embedded broker's identity rules against a real database: passwords checked against the
 * devices table, topics bound to the device, service accounts across the fleet, disabled and
 * rotated devices cut off.
 */
import { createPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import { hashPassword } from "@fleetdrop/db/passwords";
import { createPgPool } from "@fleetdrop/db/pool";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { dropConnection } from "@fleetdrop/mqtt-internals";
import { freePort } from "@fleetdrop/test-broker";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type pg from "pg";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker, type TEmbeddedBroker } from "../src/broker";

const PASSWORDS = {
  A: "password-of-robot-a",
  B: "password-of-robot-b",
  OFF: "password-of-robot-off",
  LIVE: "password-of-robot-live",
  P: "password-of-robot-p",
  Q: "password-of-robot-q",
};
const WORKER_PASSWORD = "worker-service-password";
const WEB_PASSWORD = "web-service-password";
const SECOND_WORKER_PASSWORD = "second-worker-service-password";
/** One account per service instance; each is also the instance's only client id. */
const WORKER = "fleetdrop-ingest:main";
const SECOND_WORKER = "fleetdrop-ingest:second";
const WEB = "fleetdrop-web:main";
const SERVICE_ACCOUNTS = [
  { username: WORKER, password: WORKER_PASSWORD, name: "worker" as const },
  { username: SECOND_WORKER, password: SECOND_WORKER_PASSWORD, name: "worker" as const },
  { username: WEB, password: WEB_PASSWORD, name: "web" as const },
];

let db: TTestDatabase;
let prisma: TPrismaClient;
let pool: pg.Pool;
let broker: TEmbeddedBroker;
const clients: MqttClient[] = [];
const log: string[] = [];

async function connect(username: string | undefined, password: string | undefined, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    // A device's extra connections: <id>/<suffix>; a service's: its account.
    clientId: SERVICE_ACCOUNTS.some((account) => account.username === username)
      ? username
      : `${username ?? "anon"}/${Math.random().toString(36).slice(2)}`,
    ...extra,
  });
  clients.push(client);
  return client;
}

async function refusal(
  username: string | undefined,
  password: string | undefined,
  extra: IClientOptions = {},
): Promise<number | undefined> {
  const error = await connect(username, password, extra).then(
    () => null,
    (err: { code?: number }) => err,
  );
  expect(error, `${username} should have been refused`).not.toBeNull();
  return error!.code;
}

function collect(client: MqttClient) {
  const got: { topic: string; payload: string }[] = [];
  client.on("message", (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  db = await createTestDatabase("standalone-broker");
  prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "broker-test", name: "Broker test" } });
  for (const [serial, password, enabled] of [
    ["ROBOT-A", PASSWORDS.A, true],
    ["ROBOT-B", PASSWORDS.B, true],
    ["ROBOT-OFF", PASSWORDS.OFF, false],
    ["ROBOT-LIVE", PASSWORDS.LIVE, true],
    // Used only by the presence tests, which need devices with no connection left by others.
    ["ROBOT-P", PASSWORDS.P, true],
    ["ROBOT-Q", PASSWORDS.Q, true],
  ] as const) {
    await prisma.device.create({
      data: { serial, name: serial, projectId: project.id, enabled, passwordHash: await hashPassword(password) },
    });
  }
  await prisma.device.create({ data: { serial: "ROBOT-CERT", name: "cert", projectId: project.id, authMode: "certificate" } });
  pool = createPgPool({ databaseUrl: db.url, max: 2 });
  broker = await startEmbeddedBroker({
    host: "127.0.0.1",
    port: await freePort(),
    topicPrefix: "fleetdrop",
    pool,
    serviceAccounts: SERVICE_ACCOUNTS,
    log: (line) => log.push(line),
    recheckIntervalMs: 200,
  });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => {})));
  await broker?.close();
  await pool?.end();
  await prisma?.$disconnect();
  await db?.drop();
});

describe("embedded broker: who may connect", () => {
  it("refuses a wrong password, an unknown device, no credentials and a wrong service password (CONNACK 4)", async () => {
    expect(await refusal("ROBOT-A", "not-the-password")).toBe(4);
    expect(await refusal("ROBOT-A", PASSWORDS.B)).toBe(4);
    expect(await refusal("ROBOT-NOBODY", PASSWORDS.A)).toBe(4);
    expect(await refusal(undefined, undefined)).toBe(4);
    expect(await refusal(WORKER, "guess")).toBe(4);
    expect(await refusal("fleetdrop-worker", WORKER_PASSWORD)).toBe(4);
    expect(await refusal("a/b", PASSWORDS.A)).toBe(4);
  });

  it("refuses a certificate device (no password to check) and a disabled device (CONNACK 5)", async () => {
    expect(await refusal("ROBOT-CERT", "anything")).toBe(4);
    expect(await refusal("ROBOT-OFF", PASSWORDS.OFF)).toBe(5);
  });

  it("admits a device with its own password", async () => {
    const client = await connect("ROBOT-A", PASSWORDS.A);
    expect(client.connected).toBe(true);
  });
});

describe("embedded broker: the device SDK's default protocol version", () => {
  it("a device that does not choose a version (MQTT 5 first) is admitted over 3.1.1 and can publish", async () => {
    const device = await FleetdropDevice.connect({ url: broker.url, deviceId: "ROBOT-A", password: PASSWORDS.A, timeoutMs: 5000 });
    try {
      expect(device.client.connected).toBe(true);
      expect(device.client.options.protocolVersion).toBe(4);
      expect(device.options.protocolVersion).toBe(4);
      await device.client.publishAsync("fleetdrop/fleet/ROBOT-A/chunks/crash", "x", { qos: 1 });
    } finally {
      await device.close();
    }
  });
});

describe("embedded broker: client ids bound to the identity", () => {
  it("refuses a device that claims the worker's or another device's client id (CONNACK 2), and the worker keeps its session", async () => {
    const worker = await connect(WORKER, WORKER_PASSWORD);
    const b = await connect("ROBOT-B", PASSWORDS.B, { clientId: "ROBOT-B" });
    let closes = 0;
    worker.on("close", () => closes++);
    b.on("close", () => closes++);
    expect(await refusal("ROBOT-A", PASSWORDS.A, { clientId: "fleetdrop-ingest:main" })).toBe(2);
    expect(await refusal("ROBOT-A", PASSWORDS.A, { clientId: "ROBOT-B" })).toBe(2);
    expect(await refusal("ROBOT-A", PASSWORDS.A, { clientId: "ROBOT-B/demo" })).toBe(2);
    expect(await refusal("ROBOT-A", PASSWORDS.A, { clientId: "ROBOT-AB" })).toBe(2);
    // A service account is bound the same way, to its own client id: never a device's, never
    // another instance's (another worker's, with the right password of its own).
    expect(await refusal(WORKER, WORKER_PASSWORD, { clientId: "ROBOT-B" })).toBe(2);
    expect(await refusal(WEB, WEB_PASSWORD, { clientId: WORKER })).toBe(2);
    expect(await refusal(SECOND_WORKER, SECOND_WORKER_PASSWORD, { clientId: WORKER })).toBe(2);
    expect(await refusal(SECOND_WORKER, SECOND_WORKER_PASSWORD, { clientId: "fleetdrop-ingest:other" })).toBe(2);
    expect((await connect(SECOND_WORKER, SECOND_WORKER_PASSWORD)).connected).toBe(true);
    // Both still connected: a round trip through the broker after the refusals.
    await worker.subscribeAsync("fleetdrop/fleet/+/status", { qos: 1 });
    const got = collect(worker);
    await b.publishAsync("fleetdrop/fleet/ROBOT-B/status", "still here", { qos: 1 });
    await waitFor(() => got.length === 1, "the worker to receive B's message");
    expect(closes).toBe(0);
    expect((await connect("ROBOT-A", PASSWORDS.A, { clientId: "ROBOT-A" })).connected).toBe(true);
    expect((await connect("ROBOT-A", PASSWORDS.A, { clientId: "ROBOT-A/second" })).connected).toBe(true);
  });
});

describe("embedded broker: while the database is down", () => {
  it("answers server unavailable (CONNACK 3), not bad username or password", async () => {
    const deadPool = createPgPool({ databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/none`, max: 1 });
    const down = await startEmbeddedBroker({
      host: "127.0.0.1",
      port: await freePort(),
      topicPrefix: "fleetdrop",
      pool: deadPool,
      serviceAccounts: SERVICE_ACCOUNTS,
      log: () => {},
    });
    try {
      const error = await mqtt
        .connectAsync(down.url, {
          protocolVersion: 4,
          username: "ROBOT-A",
          password: PASSWORDS.A,
          clientId: "ROBOT-A",
          reconnectPeriod: 0,
          connectTimeout: 5000,
        })
        .then(
          (client) => (clients.push(client), null),
          (err: { code?: number }) => err,
        );
      expect(error?.code).toBe(3);
    } finally {
      await down.close();
      await deadPool.end().catch(() => {});
    }
  });
});

describe("embedded broker: the web app's account (as the shipped Mosquitto's web role)", () => {
  it("sends commands and reads presence, but cannot publish device requests or read device answers", async () => {
    const worker = await connect(WORKER, WORKER_PASSWORD);
    const workerGot = collect(worker);
    await worker.subscribeAsync("fleetdrop/fleet/+/file_upload/request", { qos: 1 });
    const a = await connect("ROBOT-A", PASSWORDS.A);
    const aGot = collect(a);
    await a.subscribeAsync("fleetdrop/fleet/ROBOT-A/#", { qos: 1 });

    const web = await connect(WEB, WEB_PASSWORD);
    const granted = await new Promise<number[]>((resolve, reject) =>
      web.subscribe(
        ["fleetdrop/fleet/+/presence", "fleetdrop/fleet/+/file_upload/response", "fleetdrop/fleet/ROBOT-A/#"],
        { qos: 1 },
        (error, grants) => {
          const refused = (error as { packet?: { granted?: number[] } } | null)?.packet?.granted;
          if (refused) resolve(refused);
          else if (error) reject(error);
          else resolve(grants!.map((grant) => grant.qos));
        },
      ),
    );
    expect(granted).toEqual([1, 128, 128]);
    await web.publishAsync("fleetdrop/fleet/ROBOT-A/commands", '{"command":"capture"}', { qos: 1 });
    await waitFor(() => aGot.some((m) => m.topic.endsWith("/commands")), "A to receive the command");

    const closed = new Promise<void>((resolve) => web.once("close", () => resolve()));
    web.publish("fleetdrop/fleet/ROBOT-A/file_upload/request", '{"forged":true}', { qos: 1 });
    await closed;
    await a.publishAsync("fleetdrop/fleet/ROBOT-A/file_upload/request", '{"mine":true}', { qos: 1 });
    await waitFor(() => workerGot.length >= 1, "A's own request");
    await sleep(100);
    expect(workerGot.map((m) => m.payload)).toEqual(['{"mine":true}']);
  });
});

describe("embedded broker: topics bound to the identity", () => {
  it("lets a device use its own namespace and lets the worker answer it", async () => {
    const worker = await connect(WORKER, WORKER_PASSWORD);
    const workerGot = collect(worker);
    // Aedes has no shared subscriptions: the embedded platform runs one worker on a plain filter.
    const granted = await worker.subscribeAsync("fleetdrop/fleet/+/file_upload/request", { qos: 1 });
    expect(granted[0]!.qos).toBe(1);

    const a = await connect("ROBOT-A", PASSWORDS.A);
    const aGot = collect(a);
    expect((await a.subscribeAsync("fleetdrop/fleet/ROBOT-A/#", { qos: 1 }))[0]!.qos).toBe(1);
    await a.publishAsync("fleetdrop/fleet/ROBOT-A/file_upload/request", '{"session_id":1,"filename":"a.txt"}', { qos: 1 });
    await waitFor(() => workerGot.length === 1, "the worker to receive A's request");
    expect(workerGot[0]!.topic).toBe("fleetdrop/fleet/ROBOT-A/file_upload/request");

    await worker.publishAsync("fleetdrop/fleet/ROBOT-A/file_upload/response", '{"success":true}', { qos: 1 });
    await waitFor(() => aGot.some((m) => m.topic.endsWith("/file_upload/response")), "A to receive its response");
  });

  it("refuses a subscription to another device's topics or to a wildcard standing for the device", async () => {
    const a = await connect("ROBOT-A", PASSWORDS.A);
    const filters = [
      "fleetdrop/fleet/ROBOT-B/#",
      "fleetdrop/fleet/+/file_upload/response",
      "fleetdrop/#",
      "#",
      "$share/x/fleetdrop/fleet/ROBOT-A/#",
      "fleetdrop/fleet/ROBOT-A/#",
    ];
    // mqtt.js rejects when a SUBACK refuses any filter; the grants are on the packet.
    const granted = await new Promise<number[]>((resolve, reject) =>
      a.subscribe(filters, { qos: 1 }, (error, grants) => {
        const refused = (error as { packet?: { granted?: number[] } } | null)?.packet?.granted;
        if (refused) resolve(refused);
        else if (error) reject(error);
        else resolve(grants!.map((grant) => grant.qos));
      }),
    );
    expect(granted).toEqual([128, 128, 128, 128, 128, 1]);
  });

  it("does not deliver a device's publish to another device's topic, and disconnects the offender", async () => {
    const b = await connect("ROBOT-B", PASSWORDS.B);
    const bGot = collect(b);
    await b.subscribeAsync("fleetdrop/fleet/ROBOT-B/#", { qos: 1 });
    const a = await connect("ROBOT-A", PASSWORDS.A);
    const closed = new Promise<void>((resolve) => a.once("close", () => resolve()));
    a.publish("fleetdrop/fleet/ROBOT-B/file_upload/request", '{"forged":true}', { qos: 1 });
    await closed;
    // A message B sends itself still arrives: B's subscription works, A's forgery did not.
    await b.publishAsync("fleetdrop/fleet/ROBOT-B/status", "mine", { qos: 1 });
    await waitFor(() => bGot.length >= 1, "B's own message");
    await sleep(100);
    expect(bGot.map((m) => m.payload)).toEqual(["mine"]);
  });

  it("does not let a device publish outside the fleet namespace or with its own id only as a prefix", async () => {
    for (const topic of ["fleetdrop/workers/x", "fleetdrop/fleet/ROBOT-AB/file_upload/request", "fleetdrop/fleet/ROBOT-A"]) {
      const a = await connect("ROBOT-A", PASSWORDS.A);
      const closed = new Promise<void>((resolve) => a.once("close", () => resolve()));
      a.publish(topic, "x", { qos: 1 });
      await closed;
    }
  });
});

describe("embedded broker: cutting devices off", () => {
  it("disconnects a device disabled while connected and refuses it afterwards", async () => {
    const live = await connect("ROBOT-LIVE", PASSWORDS.LIVE);
    const closed = new Promise<void>((resolve) => live.once("close", () => resolve()));
    await prisma.device.update({ where: { serial: "ROBOT-LIVE" }, data: { enabled: false } });
    await closed;
    expect(log.some((line) => line.includes("disconnected ROBOT-LIVE"))).toBe(true);
    expect(await refusal("ROBOT-LIVE", PASSWORDS.LIVE)).toBe(5);
    await prisma.device.update({ where: { serial: "ROBOT-LIVE" }, data: { enabled: true } });
    expect((await connect("ROBOT-LIVE", PASSWORDS.LIVE)).connected).toBe(true);
  });

  it("refuses the old password at once after a rotation (even though it was recently verified) and drops its connections", async () => {
    const b = await connect("ROBOT-B", PASSWORDS.B);
    const closed = new Promise<void>((resolve) => b.once("close", () => resolve()));
    await prisma.device.update({ where: { serial: "ROBOT-B" }, data: { passwordHash: await hashPassword("rotated-password-b") } });
    expect(await refusal("ROBOT-B", PASSWORDS.B)).toBe(4);
    await closed;
    expect((await connect("ROBOT-B", "rotated-password-b")).connected).toBe(true);
  });
});

describe("embedded broker: presence of device connections", () => {
  it("says on P/broker/presence/D when a device's first connection comes and its last one goes, Last Will or not", async () => {
    const worker = await connect(WORKER, WORKER_PASSWORD);
    const got = collect(worker);
    await worker.subscribeAsync("fleetdrop/broker/presence/+", { qos: 1 });
    const said = () => got.filter((m) => m.topic === "fleetdrop/broker/presence/ROBOT-P").map((m) => JSON.parse(m.payload).online);

    const first = await connect("ROBOT-P", PASSWORDS.P);
    await waitFor(() => said().length === 1, "online");
    const second = await connect("ROBOT-P", PASSWORDS.P);
    await first.endAsync();
    await sleep(200);
    expect(said()).toEqual([true]); // one connection of ROBOT-P is still up
    // The last connection drops without a DISCONNECT (no Last Will configured either).
    dropConnection(second);
    await waitFor(() => said().length === 2, "offline");
    expect(said()).toEqual([true, false]);

    // Retained: a worker that connects later learns it.
    const late = await connect(SECOND_WORKER, SECOND_WORKER_PASSWORD);
    const replay = collect(late);
    await late.subscribeAsync("fleetdrop/broker/presence/ROBOT-P", { qos: 1 });
    await waitFor(() => replay.length === 1, "retained presence");
    expect(JSON.parse(replay[0]!.payload).online).toBe(false);
  });

  it("lets no client publish there: not a device for itself, not the worker, not the web app", async () => {
    const watcher = await connect(WORKER, WORKER_PASSWORD);
    const got = collect(watcher);
    await watcher.subscribeAsync("fleetdrop/broker/presence/+", { qos: 1 });
    await sleep(100);
    got.length = 0;
    const forger = await connect("ROBOT-Q", PASSWORDS.Q);
    forger.on("error", () => {});
    forger.publish("fleetdrop/broker/presence/ROBOT-Q", '{"online":true}', { qos: 0 });
    forger.publish("fleetdrop/broker/presence/ROBOT-P", '{"online":true}', { qos: 0 });
    const web = await connect(WEB, WEB_PASSWORD);
    web.on("error", () => {});
    web.publish("fleetdrop/broker/presence/ROBOT-P", '{"online":true}', { qos: 0 });
    watcher.publish("fleetdrop/broker/presence/ROBOT-P", '{"online":true}', { qos: 0 });
    await sleep(400);
    // Only what the broker itself said: ROBOT-Q connected, then was cut off for its forbidden publish.
    expect(got.map((m) => [m.topic, JSON.parse(m.payload).online])).toEqual([
      ["fleetdrop/broker/presence/ROBOT-Q", true],
      ["fleetdrop/broker/presence/ROBOT-Q", false],
    ]);
  });
});
