/**
 * A real stack for worker tests: its own PostgreSQL database, its own Mosquitto, the fs store
 * in a temporary folder served by the worker's endpoint, and seeded devices and sessions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { FsStore } from "@fleetdrop/storage/fs";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { createStore, type TFsStoreConfigInput } from "@fleetdrop/storage/config";
import type { Store } from "@fleetdrop/storage/store";
import { createNamedStores, type TNamedStore } from "@fleetdrop/storage/named-stores";
import { freePort, startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import mqtt, { type IClientPublishOptions, type MqttClient } from "mqtt";
import pino from "pino";
import type { TPresenceChange } from "../src/presence/record";
import { createIngestWorker, type TIngestWorker, type TIngestWorkerConfig } from "../src/worker";

export type TSeed = {
  projectId: string;
  deviceA: string;
  deviceB: string;
  disabled: string;
  openA: number;
  closedA: number;
  openB: number;
  openDisabled: number;
};

export type THarness = {
  db: TTestDatabase;
  prisma: TPrismaClient;
  broker: TMosquitto;
  store: FsStore;
  /** The configuration `store` was made from (a worker in a child process makes its own from it). */
  storeConfig: TFsStoreConfigInput;
  /** Named stores: the five defaults, fs, in the same bucket under their own prefixes. */
  namedStores: Map<string, TNamedStore>;
  storeDir: string;
  seed: TSeed;
  httpPort: number;
  /**
   * `now`: the rate limits' clock (ms), for tests that move time by hand; `store` replaces the fs
   * sessions store (e.g. an S3 store against s3rver).
   */
  startWorker(
    overrides?: Partial<TIngestWorkerConfig>,
    deps?: { now?: () => number; store?: Store; onPresenceChange?: (change: TPresenceChange) => void },
  ): Promise<TIngestWorker>;
  workers: TIngestWorker[];
  close(): Promise<void>;
};

export const FS_SECRET = "test-secret-of-the-fs-store-0123456789";

export async function createHarness(label: string): Promise<THarness> {
  const db = await createTestDatabase(label);
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 3 });
  const broker = await startMosquitto();
  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-worker-store-"));
  const httpPort = await freePort();
  const storeConfig = {
    backend: "fs",
    bucket: "fleetdrop",
    rootDir: storeDir,
    publicUrl: `http://127.0.0.1:${httpPort}`,
    accessKeyId: "fleetdrop",
    secretAccessKey: FS_SECRET,
  } as const;
  const store = createStore(storeConfig);

  const namedStores = createNamedStores(undefined, {
    backend: "fs",
    bucket: "fleetdrop",
    region: "us-east-1",
    fs: { rootDir: storeDir, publicUrl: `http://127.0.0.1:${httpPort}`, accessKeyId: "fleetdrop", secretAccessKey: FS_SECRET },
  });
  const endpointStores = [store, ...[...namedStores.values()].map((entry) => entry.store as FsStore)];

  const project = await prisma.project.create({ data: { slug: `p-${label}`, name: "Test fleet" } });
  const mk = (serial: string, enabled = true) => prisma.device.create({ data: { serial, name: serial, projectId: project.id, enabled } });
  const [a, b, c] = [await mk("ROBOT-A"), await mk("ROBOT-B"), await mk("ROBOT-OFF", false)];
  const session = (deviceId: string, state: "open" | "closed" = "open") =>
    prisma.session.create({
      data: { deviceId, projectId: project.id, name: "s", state, ...(state === "closed" ? { endedAt: new Date() } : {}) },
    });
  const seed: TSeed = {
    projectId: project.id,
    deviceA: a.serial,
    deviceB: b.serial,
    disabled: c.serial,
    openA: (await session(a.id)).id,
    closedA: (await session(a.id, "closed")).id,
    openB: (await session(b.id)).id,
    openDisabled: (await session(c.id)).id,
  };

  const workers: TIngestWorker[] = [];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const startWorker = async (
    overrides: Partial<TIngestWorkerConfig> = {},
    deps: { now?: () => number; store?: Store; onPresenceChange?: (change: TPresenceChange) => void } = {},
  ) => {
    const config: TIngestWorkerConfig = {
      databaseUrl: db.url,
      dbPoolSize: 6,
      mqtt: {
        url: broker.url,
        clientId: `ingest-${label}`,
        protocolVersion: 5,
        sessionExpirySeconds: 3600,
        receiveMaximum: 500,
      },
      topicPrefix: "fleetdrop",
      maxUploadMb: 100,
      uploadExpiresInSeconds: 3600,
      http: { host: "127.0.0.1", port: httpPort },
      sweepIntervalMs: 3_600_000,
      ...overrides,
    };
    const worker = createIngestWorker({
      config,
      logger,
      store: deps.store ?? store,
      namedStores,
      httpRoutes: (onObjectStored, admitUpload, admitPart) =>
        createFsEndpoint({ stores: endpointStores, onObjectStored, admitUpload, admitPart, logger }).handle,
      now: deps.now,
      onPresenceChange: deps.onPresenceChange,
    });
    await worker.start();
    workers.push(worker);
    return worker;
  };

  return {
    db,
    prisma,
    broker,
    store,
    storeConfig,
    namedStores,
    storeDir,
    seed,
    httpPort,
    startWorker,
    workers,
    async close() {
      for (const worker of workers.splice(0)) await worker.stop().catch(() => {});
      await prisma.$disconnect();
      await broker.stop();
      await broker.cleanup();
      await db.drop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** A device-side MQTT client that publishes raw payloads and collects responses. */
export async function rawDevice(broker: TMosquitto, deviceId: string, protocolVersion: 4 | 5 = 5) {
  const client: MqttClient = await mqtt.connectAsync(broker.url, {
    clientId: `${deviceId}-${Math.random().toString(36).slice(2)}`,
    protocolVersion,
  });
  const inbox: { topic: string; body: Record<string, unknown>; correlationData?: Buffer }[] = [];
  client.on("message", (topic, payload, packet) => {
    // The device hears its own requests too (it subscribes to its whole namespace).
    if (/\/(request|complete|open|close|status)$/.test(topic) || /\/multipart\/(create|parts|abort)$/.test(topic)) return;
    inbox.push({ topic, body: JSON.parse(payload.toString()), correlationData: packet.properties?.correlationData });
  });
  await client.subscribeAsync(`fleetdrop/fleet/${deviceId}/#`, { qos: 1 });
  const base = `fleetdrop/fleet/${deviceId}/`;
  return {
    client,
    inbox,
    async send(suffix: string, payload: unknown, options: IClientPublishOptions = {}) {
      const raw = typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
      await client.publishAsync(base + suffix, raw, { qos: 1, ...options });
    },
    /** Waits for the next response matching `predicate` (default: any response topic). */
    async next(
      predicate: (m: { topic: string; body: Record<string, unknown> }) => boolean = (m) => m.topic.endsWith("/response"),
      timeoutMs = 10_000,
    ) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = inbox.findIndex(predicate);
        if (index >= 0) return inbox.splice(index, 1)[0]!;
        if (Date.now() > deadline)
          throw new Error(`no matching response within ${timeoutMs} ms; inbox: ${JSON.stringify(inbox.map((m) => m.topic))}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    /** Sends a request with a fresh request_id and waits for its response. */
    async ask(suffix: string, payload: Record<string, unknown>, options: IClientPublishOptions = {}) {
      const requestId = `r-${Math.random().toString(36).slice(2)}`;
      await this.send(suffix, { ...payload, request_id: requestId }, options);
      return (await this.next((m) => m.body.request_id === requestId)).body;
    },
    close: () => client.endAsync(),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
