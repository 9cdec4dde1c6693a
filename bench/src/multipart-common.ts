/**
 * What the multipart benchmarks share: a platform of their own (a fresh database with one device
 * and one open session, Mosquitto, the worker's production bundle on the fs store), a file of
 * random bytes on the disk under test, and that disk's description.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import { buildWorker, startWorkerProcess, type TWorkerProcess } from "./worker-process";

export type TPlatform = {
  db: TTestDatabase;
  broker: TMosquitto;
  worker: TWorkerProcess;
  storeDir: string;
  deviceId: string;
  sessionId: number;
  stop(): Promise<void>;
};

export async function startPlatform(label: string, workDir: string): Promise<TPlatform> {
  await buildWorker();
  const db = await createTestDatabase(label);
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "bench", name: "Bench" } });
  const device = await prisma.device.create({ data: { serial: "BENCH-DEV", name: "bench", projectId: project.id } });
  const sessionId = (await prisma.session.create({ data: { deviceId: device.id, projectId: project.id, name: "bench" } })).id;
  await prisma.$disconnect();
  const storeDir = await mkdtemp(path.join(workDir, "store-"));
  const broker = await startMosquitto();
  const worker = await startWorkerProcess({
    DATABASE_URL: db.url,
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `bench-${label}:1`,
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: storeDir,
    FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
  });
  return {
    db,
    broker,
    worker,
    storeDir,
    deviceId: device.serial,
    sessionId,
    async stop() {
      await worker.stop();
      await broker.stop();
      await broker.cleanup();
      await db.drop();
    },
  };
}

/** The device and filesystem a folder lives on, e.g. `/dev/vda (ext4, rotational)`. */
export function diskDescription(dir: string): string {
  const found = spawnSync("findmnt", ["-no", "SOURCE,FSTYPE", "--target", dir], { encoding: "utf8" }).stdout.trim().split(/\s+/);
  const source = found[0] ?? "unknown";
  const name = path.basename(source);
  const rota = spawnSync("cat", [`/sys/block/${name}/queue/rotational`], { encoding: "utf8" }).stdout.trim();
  return `${source} (${found[1] ?? "?"}${rota === "1" ? ", reported rotational" : rota === "0" ? ", SSD" : ""})`;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
