/**
 * One fault's world, built fresh for each fault so that no fault inherits another's leftovers: a
 * database cloned from the run's enrolled fleet, the shipped Mosquitto with auth files synced from
 * it, the fs store behind a TCP proxy, and the worker's production bundle.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPrismaClient } from "@fleetdrop/db";
import { withDatabase } from "@fleetdrop/db/migrate";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { createDevice } from "@fleetdrop/provisioning/devices/create-device";
import { createStore } from "@fleetdrop/storage/config";
import type { Store } from "@fleetdrop/storage/store";
import { freePort } from "@fleetdrop/test-broker";
import pg from "pg";
import { startSuiteBroker, type TSuiteBroker } from "./broker";
import type { TDeviceIdentity } from "./devices";
import type { TSuitePostgres } from "./postgres";
import { startTcpProxy, type TTcpProxy } from "@fleetdrop/test-broker/tcp-proxy";
import { createSuiteWorker, type TSuiteWorker } from "./worker";

export const FS_BUCKET = "fleetdrop";
const FS_ACCESS_KEY_ID = "fleetdrop";
const FS_SECRET = "fault-suite-fs-secret-0123456789";

export type TFaultEnvironment = {
  postgres: TSuitePostgres;
  db: TTestDatabase;
  broker: TSuiteBroker;
  /** mqtts:// URL of the password-device listener. */
  deviceUrl: string;
  devices: TDeviceIdentity[];
  /** A device of the fleet's project that fault (e) connects with. */
  intruder: TDeviceIdentity;
  worker: TSuiteWorker;
  storageProxy: TTcpProxy;
  /** The worker's store, read directly (not through the proxy) to check what was stored. */
  store: Store;
  storeDir: string;
  stagingDir: string;
  /** A connection for the suite's own checks (reconnect after fault (b)). */
  query<R extends pg.QueryResultRow>(sql: string): Promise<R[]>;
  close(): Promise<void>;
};

/** Devices enrolled once per run, in a database every fault's database is cloned from. */
export type TFleetTemplate = {
  postgres: TSuitePostgres;
  database: string;
  devices: TDeviceIdentity[];
  intruder: TDeviceIdentity;
};

async function withAdmin<T>(postgres: TSuitePostgres, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgres.serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Enrols the devices (password devices, as the platform's provisioning code issues them, each
 * with an open session) and one more device for fault (e). Hashing each device's password takes
 * most of a second, hence once per run.
 */
export async function createFleetTemplate(postgres: TSuitePostgres, deviceCount: number): Promise<TFleetTemplate> {
  const db = await createTestDatabase("faults_fleet", postgres.serverUrl);
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 4 });
  try {
    const ctx = { prisma, actor: "fault-suite" };
    const project = await prisma.project.create({ data: { slug: "faults", name: "Fault suite" } });
    const enrol = async (serial: string): Promise<TDeviceIdentity> => {
      const created = await createDevice(ctx, { projectId: project.id, serial, authMode: "password" });
      if (created.credentials.authMode !== "password") throw new Error("expected a password device");
      const session = await prisma.session.create({ data: { deviceId: created.device.id, projectId: project.id, name: "fault suite" } });
      return { serial, password: created.credentials.password, sessionId: session.id };
    };
    // Two at a time: the hashing runs on libuv's threads.
    const serials = Array.from({ length: deviceCount }, (_, i) => `FAULT-${String(i).padStart(3, "0")}`);
    const devices: TDeviceIdentity[] = [];
    for (let i = 0; i < serials.length; i += 2) devices.push(...(await Promise.all(serials.slice(i, i + 2).map(enrol))));
    const intruder = await enrol("FAULT-INTRUDER");
    return { postgres, database: db.name, devices, intruder };
  } finally {
    await prisma.$disconnect();
  }
}

export async function createFaultEnvironment(options: {
  fleet: TFleetTemplate;
  label: string;
  /** The worker's service account and client id (MQTT_USERNAME = MQTT_CLIENT_ID); unset: fleetdrop-ingest:faults. */
  workerClientId?: string;
  /** Worker settings on top of the production-like ones (an empty value unsets one). */
  workerEnv?: Record<string, string>;
}): Promise<TFaultEnvironment> {
  const { fleet } = options;
  const { postgres, devices, intruder } = fleet;
  const name = `${fleet.database}_${options.label.replace(/[^a-z0-9]+/g, "_")}`.slice(0, 63);
  await withAdmin(postgres, (admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${fleet.database}"`));
  const db: TTestDatabase = {
    url: withDatabase(postgres.serverUrl, name),
    name,
    drop: () => withAdmin(postgres, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const broker = await startSuiteBroker(prisma, options.workerClientId);
  await prisma.$disconnect();

  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-faults-store-"));
  const stagingDir = path.join(storeDir, "transfer-staging");
  const httpPort = await freePort();
  const storageProxy = await startTcpProxy({ host: "127.0.0.1", port: httpPort });
  // As docker-compose.yml runs it, but with the fs store (its upload endpoint is served by the
  // worker and reached through the proxy).
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    MQTT_URL: `mqtt://127.0.0.1:${broker.ports.services}`,
    MQTT_USERNAME: broker.workerAccount.username,
    MQTT_PASSWORD: broker.workerAccount.password,
    MQTT_SHARED_GROUP: "ingest",
    TRANSFER_STAGING_DIR: stagingDir,
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: storeDir,
    FS_BUCKET,
    FS_ACCESS_KEY_ID,
    FS_SECRET_ACCESS_KEY: FS_SECRET,
    FS_PUBLIC_URL: `http://127.0.0.1:${storageProxy.port}`,
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: "warn",
    ...options.workerEnv,
  };
  const worker = createSuiteWorker(env, httpPort);
  await worker.start();
  const store = createStore({
    backend: "fs",
    bucket: FS_BUCKET,
    rootDir: storeDir,
    publicUrl: `http://127.0.0.1:${storageProxy.port}`,
    accessKeyId: FS_ACCESS_KEY_ID,
    secretAccessKey: FS_SECRET,
  });

  return {
    postgres,
    db,
    broker,
    deviceUrl: `mqtts://127.0.0.1:${broker.ports.passwords}`,
    devices,
    intruder,
    worker,
    storageProxy,
    store,
    storeDir,
    stagingDir,
    async query<R extends pg.QueryResultRow>(sql: string) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query<R>(sql)).rows;
      } finally {
        await client.end();
      }
    },
    async close() {
      await worker.stop().catch(() => {});
      await storageProxy.down();
      await broker.close();
      await db.drop().catch(() => {});
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
