/**
 * The shipped broker configuration (deploy/mosquitto: mosquitto.conf, ACLs, run.sh) on a real
 * Mosquitto, with certificates and passwords issued by the platform and auth files written by
 * the broker sync, and a real ingest worker on the service listener:
 *   - a certificate device is its CN; it may publish only its own topics (MQTT 5: PUBACK 135)
 *     and receives nothing of another device's;
 *   - a password device connects with its issued password; a wrong one is refused;
 *   - a disabled device is answered 403 by the worker at once, then cut off by the broker;
 *   - a revoked certificate cannot connect.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { createIngestWorker, type TIngestWorker, type TIngestWorkerConfig } from "../src/worker";
import { createStore } from "@fleetdrop/storage/config";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { freePort } from "@fleetdrop/test-broker";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { createCredentialBundle } from "@fleetdrop/provisioning/bundle";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childHandled, forkWorker } from "./support/child-worker";
import { createMosquittoSync, type TMosquittoSync } from "@fleetdrop/provisioning/broker/mosquitto-sync";
import type { TProvisioningContext } from "@fleetdrop/provisioning/context";
import {
  createCaCertificate,
  certificatePem,
  exportPrivateKeyPem,
  generateKeyPair,
  issueClientCertificate,
} from "@fleetdrop/provisioning/crypto/x509";
import { createSecretBox, generateEncryptionKey, parseEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";
import { createDevice, type TCreatedDevice } from "@fleetdrop/provisioning/devices/create-device";
import { revokeDevice } from "@fleetdrop/provisioning/devices/revoke-device";
import { rotateDeviceCredentials } from "@fleetdrop/provisioning/devices/rotate-credentials";
import { setDeviceEnabled } from "@fleetdrop/provisioning/devices/set-device-enabled";
import { rotateProjectCa } from "@fleetdrop/provisioning/ca/project-ca";
import { createBrokerTls, type TBrokerTls } from "@fleetdrop/provisioning/ca/broker-tls";
import {
  prepareShippedMosquitto,
  readShippedAclTemplate,
  startShippedMosquitto,
  type TShippedMosquitto,
} from "@fleetdrop/test-broker/shipped-mosquitto";

const WORKER_PASSWORD = "worker-password-for-the-shipped-broker";
const WEB_PASSWORD = "web-password-for-the-shipped-broker";
/** Each service instance's account is its client id (deploy/mosquitto binds them). */
const WORKER_CLIENT_ID = "fleetdrop-ingest:shipped";
const SECOND_WORKER = { username: "fleetdrop-ingest:second", password: "second-worker-password-for-the-shipped-broker" };
const WEB_CLIENT_ID = "fleetdrop-web:shipped";

let db: TTestDatabase;
let prisma: TPrismaClient;
let ctx: TProvisioningContext;
let shipped: TShippedMosquitto;
let brokerTls: TBrokerTls;
let projectId: string;
let sync: TMosquittoSync;
let worker: TIngestWorker;
let storeDir: string;
const devices: Record<string, TCreatedDevice> = {};
const sessions: Record<string, number> = {};
const clients: MqttClient[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function credentialsOf(serial: string): IClientOptions {
  const { credentials } = devices[serial]!;
  return credentials.authMode === "certificate"
    ? { cert: credentials.certificatePem, key: credentials.privateKeyPem }
    : { username: serial, password: credentials.password };
}

async function connectDevice(
  serial: string,
  options: IClientOptions & { listener?: "certificates" | "passwords" } = {},
): Promise<MqttClient> {
  const auth = devices[serial]?.credentials.authMode ?? "certificate";
  const listener = options.listener ?? (auth === "certificate" ? "certificates" : "passwords");
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${shipped.ports[listener]}`, {
    ca: brokerTls.caPem,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: `${serial}-${Math.random().toString(36).slice(2, 8)}`,
    ...(devices[serial] ? credentialsOf(serial) : {}),
    ...options,
  });
  clients.push(client);
  return client;
}

async function refused(connecting: Promise<MqttClient>): Promise<{ code?: number | string; message: string }> {
  const outcome = await connecting.then(
    (client) => ({ connected: client }),
    (error: { code?: number | string; message: string }) => ({ error }),
  );
  if ("connected" in outcome) throw new Error("the connection was accepted");
  return outcome.error;
}

/** A device's view of its own namespace: everything but its own requests. */
function inbox(client: MqttClient) {
  const got: { topic: string; body: Record<string, unknown> }[] = [];
  client.on("message", (topic, payload) => {
    if (!topic.endsWith("/request")) got.push({ topic, body: JSON.parse(payload.toString()) });
  });
  return got;
}

async function waitFor<T>(get: () => T | undefined, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const reloads = () => shipped.mosquitto.log().split("mosquitto reloaded").length - 1;

/** Runs the broker sync and waits until run.sh has made Mosquitto reload the files. */
async function syncAndReload() {
  const before = reloads();
  const result = await sync.syncNow();
  expect(result.changed.length).toBeGreaterThan(0);
  await waitFor(() => (reloads() > before ? true : undefined), "run.sh to reload mosquitto");
  await sleep(200);
}

beforeAll(async () => {
  db = await createTestDatabase("shipped-broker");
  prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 4 });
  ctx = { prisma, secrets: createSecretBox(parseEncryptionKey(generateEncryptionKey())), actor: "test" };
  const project = await prisma.project.create({ data: { slug: "shipped", name: "Shipped broker" } });
  projectId = project.id;
  for (const [serial, authMode] of [
    ["CERT-A", "certificate"],
    ["CERT-B", "certificate"],
    ["CERT-OFF", "certificate"],
    ["CERT-LOST", "certificate"],
    ["PW-C", "password"],
    ["PW-ROT", "password"],
  ] as const) {
    devices[serial] = await createDevice(ctx, { projectId: project.id, serial, authMode });
    sessions[serial] = (
      await prisma.session.create({ data: { deviceId: devices[serial].device.id, projectId: project.id, name: "s" } })
    ).id;
  }

  brokerTls = await createBrokerTls({ hosts: ["localhost", "127.0.0.1"] });
  const prepared = await prepareShippedMosquitto(brokerTls);
  sync = createMosquittoSync({
    ctx,
    dir: prepared.authDir,
    aclTemplate: await readShippedAclTemplate(),
    topicPrefix: "fleetdrop",
    services: [
      { username: WORKER_CLIENT_ID, password: WORKER_PASSWORD },
      SECOND_WORKER,
      { username: WEB_CLIENT_ID, password: WEB_PASSWORD },
    ],
    databaseUrl: null,
    intervalMs: 3_600_000,
  });
  await sync.syncNow();
  shipped = await startShippedMosquitto(prepared);

  storeDir = await mkdtemp(path.join(tmpdir(), "fd-shipped-store-"));
  worker = await startWorker({ username: WORKER_CLIENT_ID, password: WORKER_PASSWORD }, await freePort());
});

const storeConfig = (httpPort: number | null) =>
  ({
    backend: "fs",
    bucket: "fleetdrop",
    rootDir: storeDir,
    publicUrl: `http://127.0.0.1:${httpPort ?? 9}`,
    accessKeyId: "fleetdrop",
    secretAccessKey: "secret-of-the-fs-store-for-tests",
  }) as const;

/** An ingest worker on the services listener with its own account (client id = username), in the group `ingest`. */
function workerConfig(account: { username: string; password: string }, httpPort: number | null): TIngestWorkerConfig {
  return {
    databaseUrl: db.url,
    dbPoolSize: 3,
    mqtt: {
      url: `mqtt://127.0.0.1:${shipped.ports.services}`,
      clientId: account.username,
      username: account.username,
      password: account.password,
      protocolVersion: 5,
      sessionExpirySeconds: 60,
      receiveMaximum: 100,
      sharedGroup: "ingest",
    },
    topicPrefix: "fleetdrop",
    maxUploadMb: 100,
    uploadExpiresInSeconds: 3600,
    http: httpPort === null ? null : { host: "127.0.0.1", port: httpPort },
    sweepIntervalMs: 3_600_000,
  };
}

async function startWorker(account: { username: string; password: string }, httpPort: number | null): Promise<TIngestWorker> {
  const store = createStore(storeConfig(httpPort));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const started = createIngestWorker({
    config: workerConfig(account, httpPort),
    logger,
    store,
    httpRoutes: (onObjectStored) => createFsEndpoint({ stores: [store], onObjectStored, logger }).handle,
  });
  await started.start();
  return started;
}

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => {})));
  await worker?.stop().catch(() => {});
  await sync?.stop();
  await shipped?.close();
  await prisma?.$disconnect();
  await db?.drop();
  if (storeDir) await rm(storeDir, { recursive: true, force: true });
});

describe("shipped Mosquitto: identity from the certificate", () => {
  it("binds a certificate device to its CN and the worker answers it through the shipped service ACL", async () => {
    const a = await connectDevice("CERT-A");
    const got = inbox(a);
    await a.subscribeAsync("fleetdrop/fleet/CERT-A/#", { qos: 1 });
    await a.publishAsync(
      "fleetdrop/fleet/CERT-A/file_upload/request",
      JSON.stringify({ session_id: sessions["CERT-A"], filename: "a.txt", request_id: "a-1" }),
      { qos: 1 },
    );
    const response = await waitFor(() => got.find((m) => m.body.request_id === "a-1"), "the worker's answer");
    expect(response.topic).toBe("fleetdrop/fleet/CERT-A/file_upload/response");
    expect(response.body).toMatchObject({ success: true, status: 200, object_key: `sessions/CERT-A/${sessions["CERT-A"]}/a.txt` });
  });

  it("refuses A's publish to B's request topic with PUBACK 135, and B's worker never sees it", async () => {
    const a = await connectDevice("CERT-A");
    const error = await a
      .publishAsync(
        "fleetdrop/fleet/CERT-B/file_upload/request",
        JSON.stringify({ session_id: sessions["CERT-B"], filename: "forged.txt" }),
        { qos: 1 },
      )
      .then(
        () => null,
        (err: { code?: number }) => err,
      );
    expect(error?.code).toBe(135);
    await sleep(300);
    expect(await prisma.file.count({ where: { session: { id: sessions["CERT-B"] } } })).toBe(0);
    expect(a.connected).toBe(true);
  });

  it("lets A subscribe to B's responses but delivers none of them to A", async () => {
    const a = await connectDevice("CERT-A");
    const aGot = inbox(a);
    await a.subscribeAsync(["fleetdrop/fleet/CERT-B/#", "fleetdrop/fleet/+/file_upload/response"], { qos: 1 });
    const b = await connectDevice("CERT-B");
    const bGot = inbox(b);
    await b.subscribeAsync("fleetdrop/fleet/CERT-B/#", { qos: 1 });
    await b.publishAsync(
      "fleetdrop/fleet/CERT-B/file_upload/request",
      JSON.stringify({ session_id: sessions["CERT-B"], filename: "b.txt", request_id: "b-1" }),
      { qos: 1 },
    );
    await waitFor(() => bGot.find((m) => m.body.request_id === "b-1"), "B's answer");
    await sleep(300);
    expect(aGot).toEqual([]);
  });

  it("refuses a client without a certificate, and one whose certificate another CA issued with a device's CN", async () => {
    await refused(connectDevice("NO-CERT"));
    const keys = await generateKeyPair();
    const rogueCa = await createCaCertificate({ commonName: "Rogue CA", keys, years: 1 });
    const deviceKeys = await generateKeyPair();
    const cert = await issueClientCertificate({
      signer: { certificate: rogueCa, privateKey: keys.privateKey },
      commonName: "CERT-A",
      publicKey: deviceKeys.publicKey,
      days: 1,
    });
    await refused(connectDevice("ROGUE", { cert: certificatePem(cert), key: await exportPrivateKeyPem(deviceKeys.privateKey) }));
  });
});

describe("shipped Mosquitto: client ids bound to the identity", () => {
  it("takes over no session when a device claims the worker's or another device's client id", async () => {
    let workerClosed = 0;
    const onClose = () => workerClosed++;
    worker.mqtt.on("close", onClose);
    try {
      const b = await connectDevice("CERT-B", { clientId: "CERT-B" });
      const bGot = inbox(b);
      await b.subscribeAsync("fleetdrop/fleet/CERT-B/#", { qos: 1 });
      let bClosed = 0;
      b.on("close", () => bClosed++);
      // A certificate device and a password device each claim someone else's session.
      const a = await connectDevice("CERT-A", { clientId: WORKER_CLIENT_ID });
      const c = await connectDevice("PW-C", { clientId: "CERT-B" });
      for (let round = 0; round < 3; round++) {
        await b.publishAsync(
          "fleetdrop/fleet/CERT-B/file_upload/request",
          JSON.stringify({ session_id: sessions["CERT-B"], filename: `id-${round}.txt`, request_id: `id-${round}` }),
          { qos: 1 },
        );
        expect((await waitFor(() => bGot.find((m) => m.body.request_id === `id-${round}`), `B's answer ${round}`)).body.status).toBe(200);
      }
      expect(workerClosed).toBe(0);
      expect(bClosed).toBe(0);
      expect(a.connected && b.connected && c.connected).toBe(true);
    } finally {
      worker.mqtt.off("close", onClose);
    }
  });
});

/** A connection to the services listener; resolves to the CONNACK code of a refusal, or the client. */
async function connectService(options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${shipped.ports.services}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  clients.push(client);
  return client;
}

/** The SUBACK codes of one SUBSCRIBE (mqtt.js rejects when one of them is a refusal). */
async function subackCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  const granted = await client.subscribeAsync(filters, { qos: 1 }).then(
    (grants) => grants,
    (error: { packet?: { granted?: number[] } }) => {
      if (!error.packet?.granted) throw error;
      return error.packet.granted.map((qos) => ({ qos }));
    },
  );
  return granted.map((grant) => grant.qos);
}

async function requestsHandled(target: TIngestWorker): Promise<number> {
  return (await target.metrics.requests.get()).values.reduce((sum, value) => sum + value.value, 0);
}

describe("shipped Mosquitto: one account per service instance, bound to its client id", () => {
  it("refuses a worker's credentials with another worker's client id at CONNECT, and the other worker keeps its session", async () => {
    let workerClosed = 0;
    const onClose = () => workerClosed++;
    worker.mqtt.on("close", onClose);
    try {
      // Instance "second" (right password) asking for instance "shipped"'s client id and session.
      const impersonation = await refused(
        connectService({ ...SECOND_WORKER, clientId: WORKER_CLIENT_ID, clean: false, properties: { sessionExpiryInterval: 3600 } }),
      );
      expect(impersonation.code).toBe(135);
      // Nor any other client id: the account is its client id.
      expect((await refused(connectService({ ...SECOND_WORKER, clientId: "fleetdrop-ingest:other" }))).code).toBe(135);
      expect((await refused(connectService({ ...SECOND_WORKER, clientId: "" }))).code).toBeGreaterThanOrEqual(128);
      // The web app's account cannot become a worker either, nor a worker the web app.
      expect((await refused(connectService({ username: WEB_CLIENT_ID, password: WEB_PASSWORD, clientId: WORKER_CLIENT_ID }))).code).toBe(
        135,
      );
      expect((await refused(connectService({ username: WORKER_CLIENT_ID, password: WORKER_PASSWORD, clientId: WEB_CLIENT_ID }))).code).toBe(
        135,
      );
      // The shared account of earlier versions is gone.
      expect(
        (await refused(connectService({ username: "fleetdrop-worker", password: WORKER_PASSWORD, clientId: "fleetdrop-ingest:x" }))).code,
      ).toBe(135);
      // The worker was never pushed off and still answers.
      const b = await connectDevice("CERT-B", { clientId: "CERT-B" });
      const bGot = inbox(b);
      await b.subscribeAsync("fleetdrop/fleet/CERT-B/#", { qos: 1 });
      await b.publishAsync(
        "fleetdrop/fleet/CERT-B/file_upload/request",
        JSON.stringify({ session_id: sessions["CERT-B"], filename: "bound-1.txt", request_id: "bound-1" }),
        { qos: 1 },
      );
      expect((await waitFor(() => bGot.find((m) => m.body.request_id === "bound-1"), "B's answer")).body.status).toBe(200);
      expect(workerClosed).toBe(0);
      await b.endAsync();
    } finally {
      worker.mqtt.off("close", onClose);
    }
  });

  it("refuses a device's account on the services listener, whatever client id it asks for", async () => {
    const pw = devices["PW-C"]!.credentials;
    const password = pw.authMode === "password" ? pw.password : "";
    for (const clientId of ["PW-C", WORKER_CLIENT_ID, WEB_CLIENT_ID]) {
      expect((await refused(connectService({ username: "PW-C", password, clientId }))).code).toBe(135);
    }
  });

  it("gives the web app's account no device request topic and no answer", async () => {
    const web = await connectService({ username: WEB_CLIENT_ID, password: WEB_PASSWORD, clientId: WEB_CLIENT_ID });
    const seen: string[] = [];
    web.on("message", (topic) => seen.push(topic));
    expect(
      await subackCodes(web, [
        "fleetdrop/fleet/+/file_upload/request",
        "$share/ingest/fleetdrop/fleet/+/file_upload/request",
        "fleetdrop/fleet/PW-C/#",
        "#",
        "fleetdrop/fleet/+/presence",
      ]),
    ).toEqual([135, 135, 135, 135, 1]);
    for (const topic of ["fleetdrop/fleet/PW-C/file_upload/response", "fleetdrop/fleet/PW-C/file_upload/request", "fleetdrop/workers/x"]) {
      const error = await web.publishAsync(topic, "{}", { qos: 1 }).then(
        () => null,
        (err: { code?: number }) => err,
      );
      expect(error?.code, topic).toBe(135);
    }
    // A device's request reaches the worker, never the web app.
    const c = await connectDevice("PW-C");
    const got = inbox(c);
    await c.subscribeAsync("fleetdrop/fleet/PW-C/#", { qos: 1 });
    await c.publishAsync(
      "fleetdrop/fleet/PW-C/file_upload/request",
      JSON.stringify({ session_id: sessions["PW-C"], filename: "web-not.txt", request_id: "web-not" }),
      { qos: 1 },
    );
    await waitFor(() => got.find((m) => m.body.request_id === "web-not"), "C's answer");
    await sleep(200);
    expect(seen.filter((topic) => !topic.endsWith("/presence"))).toEqual([]);
    await c.endAsync();
  });

  it("records device presence over the worker's one bound connection: a device's birth, then its Last Will", async () => {
    const presenceTopic = "fleetdrop/fleet/PW-C/presence";
    const c = await connectDevice("PW-C", {
      will: { topic: presenceTopic, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    await c.publishAsync(presenceTopic, JSON.stringify({ online: true }), { qos: 1, retain: true });
    const presenceOf = async () =>
      (await prisma.device.findUniqueOrThrow({ where: { serial: "PW-C" }, select: { presenceOnline: true } })).presenceOnline;
    const until = async (wanted: boolean) => {
      const deadline = Date.now() + 8000;
      while ((await presenceOf()) !== wanted) {
        if (Date.now() > deadline) throw new Error(`PW-C's presence never became ${wanted}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await until(true);
    (c.stream as unknown as { destroy(): void }).destroy();
    await until(false);
    // Both presence filters are the worker role's: none is refused (the embedded broker's topic
    // has no publisher here, and no role may publish it).
    const other = await connectService({ clientId: SECOND_WORKER.username, ...SECOND_WORKER, clean: true });
    expect(await subackCodes(other, ["fleetdrop/fleet/+/presence", "fleetdrop/broker/presence/+"])).toEqual([1, 1]);
    expect(await subackCodes(other, ["fleetdrop/broker/presence/PW-C"])).toEqual([1]);
    const published = await other.publishAsync("fleetdrop/broker/presence/PW-C", '{"online":true}', { qos: 1 }).then(
      () => null,
      (error: { code?: number }) => error.code,
    );
    expect(published).toBe(135);
    await other.endAsync();
  });

  it("runs two workers with their own accounts on one shared subscription: each request answered once", async () => {
    const second = await startWorker(SECOND_WORKER, null);
    try {
      const [beforeFirst, beforeSecond] = [await requestsHandled(worker), await requestsHandled(second)];
      const c = await connectDevice("PW-C");
      const got = inbox(c);
      await c.subscribeAsync("fleetdrop/fleet/PW-C/#", { qos: 1 });
      const ids = Array.from({ length: 60 }, (_, i) => `two-${i}`);
      await Promise.all(
        ids.map((id) =>
          c.publishAsync(
            "fleetdrop/fleet/PW-C/file_upload/request",
            JSON.stringify({ session_id: sessions["PW-C"], filename: `${id}.txt`, request_id: id }),
            { qos: 1 },
          ),
        ),
      );
      await waitFor(() => (ids.every((id) => got.some((m) => m.body.request_id === id)) ? true : undefined), "every answer", 20_000);
      await sleep(300); // a second answer would be here by now
      for (const id of ids)
        expect(
          got.filter((m) => m.body.request_id === id).map((m) => m.body.status),
          id,
        ).toEqual([200]);
      const [first, other] = [(await requestsHandled(worker)) - beforeFirst, (await requestsHandled(second)) - beforeSecond];
      expect(first + other).toBe(60);
      expect(first).toBeGreaterThan(0);
      expect(other).toBeGreaterThan(0);

      // The second stops while the first is online: it hands its session back (ends it), so the
      // broker allocates nothing more to it and every later request is answered by the first.
      await second.stop();
      const later = Array.from({ length: 20 }, (_, i) => `after-stop-${i}`);
      for (const id of later) {
        await c.publishAsync(
          "fleetdrop/fleet/PW-C/file_upload/request",
          JSON.stringify({ session_id: sessions["PW-C"], filename: `${id}.txt`, request_id: id }),
          { qos: 1 },
        );
      }
      await waitFor(
        () => (later.every((id) => got.some((m) => m.body.request_id === id)) ? true : undefined),
        "answers after the stop",
        10_000,
      );
      await c.endAsync();
    } finally {
      await second.stop().catch(() => {});
    }
  });
});

/** A worker in a child process, so that it can be SIGKILLed. */
const forkAccountWorker = (account: { username: string; password: string }) => forkWorker(workerConfig(account, null), storeConfig(null));

describe("shipped Mosquitto: a worker that dies", () => {
  it("keeps its requests in its session until it starts again under its own account, then answers them all", async () => {
    let child = await forkAccountWorker(SECOND_WORKER);
    try {
      const c = await connectDevice("PW-C");
      const got = inbox(c);
      await c.subscribeAsync("fleetdrop/fleet/PW-C/#", { qos: 1 });
      const send = (id: string) =>
        c.publishAsync(
          "fleetdrop/fleet/PW-C/file_upload/request",
          JSON.stringify({ session_id: sessions["PW-C"], filename: `${id}.txt`, request_id: id }),
          { qos: 1 },
        );
      const before = Array.from({ length: 40 }, (_, i) => `crash-${i}`);
      await Promise.all(before.map(send));
      const deadline = Date.now() + 10_000;
      while ((await childHandled(child)) === 0 && Date.now() < deadline) await sleep(20);
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      // Mosquitto goes on allocating requests to the dead worker's session, in turn.
      const after = Array.from({ length: 20 }, (_, i) => `after-crash-${i}`);
      for (const id of after) await send(id);
      const ids = [...before, ...after];
      const answered = () => ids.filter((id) => got.some((m) => m.body.request_id === id));
      await sleep(1500);
      expect(answered().length).toBeLessThan(ids.length);

      // The supervisor starts it again, with the same account: it finds its session and answers.
      child = await forkAccountWorker(SECOND_WORKER);
      await waitFor(() => (answered().length === ids.length ? true : undefined), "every answer after the restart", 20_000);
      expect(got.filter((m) => ids.includes(String(m.body.request_id))).every((m) => m.body.status === 200)).toBe(true);
      const rows = await prisma.file.groupBy({ by: ["filename"], where: { filename: { contains: "crash-" } }, _count: true });
      expect(rows.length).toBe(ids.length);
      expect(rows.every((row) => row._count === 1)).toBe(true);
      await c.endAsync();
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: "stop" });
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
  });
});

describe("shipped Mosquitto: password devices", () => {
  it("admits the issued password on the password listener, bound to the device's own topics", async () => {
    const c = await connectDevice("PW-C");
    const got = inbox(c);
    await c.subscribeAsync("fleetdrop/fleet/PW-C/#", { qos: 1 });
    await c.publishAsync(
      "fleetdrop/fleet/PW-C/file_upload/request",
      JSON.stringify({ session_id: sessions["PW-C"], filename: "c.txt", request_id: "c-1" }),
      { qos: 1 },
    );
    expect((await waitFor(() => got.find((m) => m.body.request_id === "c-1"), "C's answer")).body.status).toBe(200);
    const error = await c.publishAsync("fleetdrop/fleet/CERT-A/file_upload/request", "{}", { qos: 1 }).then(
      () => null,
      (err: { code?: number }) => err,
    );
    expect(error?.code).toBe(135);
  });

  // Mosquitto 2.0 answers a failed password check on MQTT 5 with CONNACK 135 (not authorized).
  it("refuses a wrong password (CONNACK 135), another device's password, and devices on the service listener", async () => {
    expect((await refused(connectDevice("PW-C", { password: "wrong" }))).code).toBe(135);
    const other = devices["PW-ROT"]!.credentials;
    expect((await refused(connectDevice("PW-C", { password: other.authMode === "password" ? other.password : "" }))).code).toBe(135);
    expect((await refused(connectDevice("CERT-A", { listener: "passwords", username: "CERT-A", password: "x" }))).code).toBe(135);
    const onServices = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${shipped.ports.services}`, { ...credentialsOf("PW-C"), protocolVersion: 5, reconnectPeriod: 0 })
      .then(
        (client) => (clients.push(client), null),
        (err: { code?: number }) => err,
      );
    expect(onServices?.code).toBe(135);
  });

  it("refuses the old password after a rotation once the sync ran, and admits the new one", async () => {
    const before = devices["PW-ROT"]!;
    devices["PW-ROT"] = await rotateDeviceCredentials(ctx, { serial: "PW-ROT" });
    await syncAndReload();
    const old = before.credentials.authMode === "password" ? before.credentials.password : "";
    expect((await refused(connectDevice("PW-ROT", { password: old }))).code).toBe(135);
    expect((await connectDevice("PW-ROT")).connected).toBe(true);
  });
});

describe("shipped Mosquitto: the dashboard's account", () => {
  it("reads a device's retained presence and sends it commands, but cannot publish requests as the device", async () => {
    const c = await connectDevice("PW-C");
    const got = inbox(c);
    await c.subscribeAsync("fleetdrop/fleet/PW-C/commands", { qos: 1 });
    await c.publishAsync("fleetdrop/fleet/PW-C/presence", JSON.stringify({ online: true }), { qos: 1, retain: true });
    const web = await mqtt.connectAsync(`mqtt://127.0.0.1:${shipped.ports.services}`, {
      clientId: WEB_CLIENT_ID,
      username: WEB_CLIENT_ID,
      password: WEB_PASSWORD,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    clients.push(web);
    const seen: string[] = [];
    web.on("message", (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await web.subscribeAsync("fleetdrop/fleet/PW-C/presence", { qos: 1 });
    await waitFor(() => (seen.length ? true : undefined), "the retained presence");
    expect(seen).toEqual(['fleetdrop/fleet/PW-C/presence {"online":true}']);
    await web.publishAsync("fleetdrop/fleet/PW-C/commands", JSON.stringify({ type: "capture", request_id: "cap-1", session_id: 1 }), {
      qos: 1,
    });
    await waitFor(() => got.find((m) => m.body.request_id === "cap-1"), "the command at the device");
    const forged = await web.publishAsync("fleetdrop/fleet/PW-C/file_upload/request", "{}", { qos: 1 }).then(
      () => null,
      (err: { code?: number }) => err,
    );
    expect(forged?.code).toBe(135);
  });
});

describe("shipped Mosquitto: disabling and revoking", () => {
  it("answers a disabled device 403 from the worker at once, then the broker cuts it off", async () => {
    const d = await connectDevice("CERT-OFF");
    const got = inbox(d);
    await d.subscribeAsync("fleetdrop/fleet/CERT-OFF/#", { qos: 1 });
    await setDeviceEnabled(ctx, { serial: "CERT-OFF", enabled: false });
    await d.publishAsync(
      "fleetdrop/fleet/CERT-OFF/file_upload/request",
      JSON.stringify({ session_id: sessions["CERT-OFF"], filename: "d.txt", request_id: "d-1" }),
      { qos: 1 },
    );
    const answer = await waitFor(() => got.find((m) => m.body.request_id === "d-1"), "the worker's refusal");
    expect(answer.body).toMatchObject({ success: false, status: 403, code: "device_disabled" });

    await syncAndReload();
    expect(await readFile(path.join(shipped.authDir, "acl-devices"), "utf8")).toMatch(/user CERT-OFF\ntopic deny #/);
    // Still connected: the reloaded ACL denies everything (135); new connections fail (CRL hold).
    expect(d.connected).toBe(true);
    const error = await d.publishAsync("fleetdrop/fleet/CERT-OFF/file_upload/request", "{}", { qos: 1 }).then(
      () => null,
      (err: { code?: number }) => err,
    );
    expect(error?.code).toBe(135);
    await refused(connectDevice("CERT-OFF"));

    await setDeviceEnabled(ctx, { serial: "CERT-OFF", enabled: true });
    await syncAndReload();
    expect((await connectDevice("CERT-OFF")).connected).toBe(true);
  });

  it("refuses a revoked certificate at the TLS handshake", async () => {
    expect((await connectDevice("CERT-LOST")).connected).toBe(true);
    await revokeDevice(ctx, { serial: "CERT-LOST" });
    await syncAndReload();
    await refused(connectDevice("CERT-LOST"));
    // Another device of the same CA is unaffected.
    expect((await connectDevice("CERT-B")).connected).toBe(true);
  });
});

describe("shipped Mosquitto: rotating the project's device CA", () => {
  it("trusts devices of the new CA and still those of the old one (two CAs, two CRLs in the broker's files)", async () => {
    const before = await prisma.deviceCa.findFirstOrThrow({ where: { projectId, active: true } });
    const after = await rotateProjectCa(ctx, projectId);
    devices["CERT-NEW-CA"] = await createDevice(ctx, { projectId, serial: "CERT-NEW-CA", authMode: "certificate" });
    await syncAndReload();
    const caFile = await readFile(path.join(shipped.authDir, "device-ca.pem"), "utf8");
    expect(caFile).toContain(before.fingerprint);
    expect(caFile).toContain(after.fingerprint);
    expect((await readFile(path.join(shipped.authDir, "device-crl.pem"), "utf8")).match(/BEGIN X509 CRL/g)).toHaveLength(2);
    expect((await connectDevice("CERT-NEW-CA")).connected).toBe(true);
    expect((await connectDevice("CERT-B")).connected).toBe(true);
    // Revocation still works per CA: the new CA's device is refused once revoked.
    await revokeDevice(ctx, { serial: "CERT-NEW-CA" });
    await syncAndReload();
    await refused(connectDevice("CERT-NEW-CA"));
    expect((await connectDevice("CERT-B")).connected).toBe(true);
  });
});

describe("credential bundles with the device command", () => {
  const DEVICE_CLI = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../packages/device/bin/fleetdrop-device.mjs");
  const run = promisify(execFile);

  it("connects with the bundle's device.json as it is (certificate and password devices), opens a session and uploads", async () => {
    const bundle = createCredentialBundle([devices["CERT-B"]!, devices["PW-C"]!], {
      certificateUrl: `mqtts://127.0.0.1:${shipped.ports.certificates}`,
      passwordUrl: `mqtts://127.0.0.1:${shipped.ports.passwords}`,
      brokerCaPem: brokerTls.caPem,
      topicPrefix: "fleetdrop",
    });
    const dir = await mkdtemp(path.join(tmpdir(), "fd-bundle-"));
    try {
      for (const [name, data] of Object.entries(unzipSync(bundle))) {
        if (name.endsWith("/")) continue;
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        await writeFile(path.join(dir, name), data);
      }
      await writeFile(path.join(dir, "hello.txt"), "hello from a provisioned device\n");
      for (const serial of ["CERT-B", "PW-C"]) {
        const config = path.join(dir, serial, "device.json");
        const opened = await run(process.execPath, [DEVICE_CLI, "session", "open", "--config", config, "--name", "bundle test"], {
          cwd: dir,
        });
        const sessionId = Number(/\d+/.exec(opened.stdout)?.[0]);
        expect(sessionId).toBeGreaterThan(0);
        const session = await prisma.session.findUniqueOrThrow({
          where: { id: sessionId },
          select: { device: { select: { serial: true } } },
        });
        expect(session.device.serial).toBe(serial);
        await run(process.execPath, [DEVICE_CLI, "upload", "--config", config, "--session", String(sessionId), "hello.txt"], {
          cwd: dir,
          env: { ...process.env, INIT_CWD: dir },
        });
        const file = await prisma.file.findFirstOrThrow({ where: { sessionId, filename: "hello.txt" } });
        expect(file).toMatchObject({ state: "uploaded", objectKey: `sessions/${serial}/${sessionId}/hello.txt` });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Last: it restarts the broker.
describe("shipped Mosquitto: changing the services' accounts", () => {
  it("restarts Mosquitto through run.sh: the old password is refused, the new one admitted, and the worker reconnects", async () => {
    const restarts = () => shipped.mosquitto.log().split("mosquitto restarted").length - 1;
    const before = restarts();
    const rotated = { ...SECOND_WORKER, password: "rotated-second-worker-password" };
    const rotation = createMosquittoSync({
      ctx,
      dir: shipped.authDir,
      aclTemplate: await readShippedAclTemplate(),
      topicPrefix: "fleetdrop",
      services: [{ username: WORKER_CLIENT_ID, password: WORKER_PASSWORD }, rotated, { username: WEB_CLIENT_ID, password: WEB_PASSWORD }],
      databaseUrl: null,
      intervalMs: 3_600_000,
    });
    try {
      expect((await rotation.syncNow()).changed).toEqual(["dynsec-services.json"]);
    } finally {
      await rotation.stop();
    }
    await waitFor(() => (restarts() > before ? true : undefined), "run.sh to restart mosquitto", 15_000);

    /** Tries `attempt` until it gives a value (the broker is starting again meanwhile). */
    async function eventually<T>(attempt: () => Promise<T | undefined>, what: string): Promise<T> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const value = await attempt().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
      }
    }
    const admitted = await eventually(() => connectService({ ...rotated, clientId: rotated.username }), "the new password to be admitted");
    expect(admitted.connected).toBe(true);
    await admitted.endAsync();
    expect((await refused(connectService({ ...SECOND_WORKER, clientId: SECOND_WORKER.username }))).code).toBe(135);

    const c = await eventually(() => connectDevice("PW-C"), "the device to connect again");
    const got = inbox(c);
    await c.subscribeAsync("fleetdrop/fleet/PW-C/#", { qos: 1 });
    // Until the worker is back on its session, Mosquitto 2.0's restored shared subscription drops
    // requests: the device asks again, as devices do when no answer comes.
    const answer = await eventually(async () => {
      await c.publishAsync(
        "fleetdrop/fleet/PW-C/file_upload/request",
        JSON.stringify({ session_id: sessions["PW-C"], filename: "after-restart.txt", request_id: "after-restart" }),
        { qos: 1 },
      );
      await sleep(500);
      return got.find((m) => m.body.request_id === "after-restart");
    }, "the worker's answer after the restart");
    expect(answer.body.status).toBe(200);
    expect(worker.mqtt.connected).toBe(true);
    await c.endAsync();
  });
});
