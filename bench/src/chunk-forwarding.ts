/**
 * Benchmark of chunk forwarding (docs/protocol.md#chunks): D devices each publish N chunks at QoS 1 (window W)
 * through a real Mosquitto to the real worker (production bundle, own process, PostgreSQL
 * outbox), which forwards them to a local HTTP endpoint that accepts everything. Timed from the
 * first publish until the endpoint holds every chunk and the outbox is empty; checks that
 * nothing was lost and that each device's chunks arrived in order.
 *
 *   npm run bench -- chunk-forwarding [--devices 20] [--chunks 1000] [--bytes 1024] [--window 32]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { disableNagle } from "@fleetdrop/mqtt-internals";
import { startMosquitto } from "@fleetdrop/test-broker";
import mqtt from "mqtt";
import { machineDescription } from "./machine";
import { buildWorker, startWorkerProcess } from "./worker-process";

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "20" },
    chunks: { type: "string", default: "1000" },
    bytes: { type: "string", default: "1024" },
    window: { type: "string", default: "32" },
  },
});
const DEVICES = Number(values.devices);
const CHUNKS = Number(values.chunks);
const BYTES = Number(values.bytes);
const WINDOW = Number(values.window);

async function main() {
  console.log(`machine: ${machineDescription()}`);
  console.log(`${DEVICES} devices × ${CHUNKS} chunks of ${BYTES} bytes, window ${WINDOW} QoS 1 publishes per device\n`);
  await buildWorker();
  const broker = await startMosquitto();
  const db = await createTestDatabase("bench-chunks");
  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-bench-chunks-"));

  // The endpoint: counts chunks per device and checks their order (sequence number in the body).
  const next = new Map<string, number>();
  let received = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  const endpoint = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const device = req.url!.split("/").at(-1)!;
      const seq = body.readUInt32BE(0);
      const expected = next.get(device) ?? 0;
      if (seq === expected) {
        next.set(device, expected + 1);
        received++;
      } else if (seq < expected) duplicates++;
      else outOfOrder++;
      res.writeHead(204).end();
    });
  });
  endpoint.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;

  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "bench", name: "Bench" } });
  for (let i = 0; i < DEVICES; i++)
    await prisma.device.create({ data: { serial: `BENCH-${i}`, name: `bench ${i}`, projectId: project.id } });
  await prisma.chunkStream.create({ data: { projectId: project.id, name: "crash", urlTemplate: `${url}/chunks/{device_id}` } });
  await prisma.$disconnect();

  const worker = await startWorkerProcess({
    DATABASE_URL: db.url,
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: "bench:chunk-worker",
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: storeDir,
    FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
    CHUNK_DELIVERY_CONCURRENCY: String(Math.min(64, DEVICES)),
  });
  const check = new pg.Client({ connectionString: db.url });
  await check.connect();
  try {
    const clients = await Promise.all(
      Array.from({ length: DEVICES }, async (_, i) => {
        const client = await mqtt.connectAsync(broker.url, { clientId: `BENCH-${i}`, protocolVersion: 5, clean: true });
        disableNagle(client);
        return client;
      }),
    );
    const total = DEVICES * CHUNKS;
    worker.markMemory();
    const before = worker.rss();
    const started = performance.now();
    let acknowledgedAt = 0;
    await Promise.all(
      clients.map(async (client, i) => {
        const inFlight = new Set<Promise<unknown>>();
        for (let seq = 0; seq < CHUNKS; seq++) {
          const body = Buffer.alloc(BYTES, i);
          body.writeUInt32BE(seq, 0);
          const sending: Promise<unknown> = client
            .publishAsync(`fleetdrop/fleet/BENCH-${i}/chunks/crash`, body, { qos: 1 })
            .finally(() => inFlight.delete(sending));
          inFlight.add(sending);
          if (inFlight.size >= WINDOW) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      }),
    );
    acknowledgedAt = performance.now();
    for (;;) {
      const left = Number((await check.query("SELECT count(*) AS n FROM chunk_outbox")).rows[0].n);
      if (received + outOfOrder >= total && left === 0) break;
      if (performance.now() - started > 600_000) throw new Error(`timed out: ${received} of ${total} delivered, ${left} in the outbox`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const parked = Number((await check.query("SELECT count(*) AS n FROM chunk_outbox WHERE state = 'parked'")).rows[0].n);
    await Promise.all(clients.map((client) => client.endAsync()));
    console.log(
      "| devices × chunks | bytes | published (broker acks) s | all forwarded s " +
        "| chunks/s end to end | delivered | lost | out of order | duplicates | parked | worker RSS growth MiB |",
    );
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    console.log(
      `| ${DEVICES} × ${CHUNKS} | ${BYTES} | ${((acknowledgedAt - started) / 1000).toFixed(1)} | ${seconds.toFixed(1)} ` +
        `| ${(total / seconds).toFixed(0)} | ${received} | ${total - received} | ${outOfOrder} | ${duplicates} ` +
        `| ${parked} | ${((worker.peakSinceMark() - before) / 2 ** 20).toFixed(0)} |`,
    );
  } finally {
    await check.end();
    await worker.stop();
    endpoint.close();
    await broker.stop();
    await broker.cleanup();
    await db.drop();
    await rm(storeDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
