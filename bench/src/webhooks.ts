/**
 * Benchmark of webhook delivery (docs/api.md#webhooks): the real worker (production bundle, own
 * process) delivers `file.uploaded` events to a local HTTP receiver that verifies every
 * signature and checks each device's order. An upload's completion is the commit that records
 * the file uploaded — the statement every upload path ends in — issued here by D concurrent
 * writers, one per device, so the worker's MQTT and storage work is not what is measured.
 *
 * - throughput: a burst of D × N completions; events/s from the first commit until the receiver
 *   holds every event;
 * - delay: completions paced at --rate per second for --seconds; per event, receiver time minus
 *   the writer's commit time (same clock), p50 and p99.
 *
 *   npm run bench -- webhooks [--devices 20] [--events 500] [--rate 100] [--seconds 10] [--runs 3]
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
import { verifySignature } from "@fleetdrop/shared/webhooks/signature";
import { startMosquitto } from "@fleetdrop/test-broker";
import { machineDescription } from "./machine";
import { median } from "./stats";
import { buildWorker, startWorkerProcess } from "./worker-process";

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "20" },
    events: { type: "string", default: "500" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
  },
});
const DEVICES = Number(values.devices);
const EVENTS = Number(values.events);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const SECRET = "whsec_bench-secret";

type TRun = { eventsPerSecond: number; p50: number; p99: number; badSignatures: number; outOfOrder: number; lost: number };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function oneRun(run: number): Promise<TRun> {
  const broker = await startMosquitto();
  const db = await createTestDatabase(`bench-webhooks-${run}`);
  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-bench-webhooks-"));

  const committedAt = new Map<string, number>();
  const receivedAt = new Map<string, number>();
  const nextSeq = new Map<string, number>();
  let received = 0;
  let badSignatures = 0;
  let outOfOrder = 0;
  const receiver = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const at = performance.now();
      const body = Buffer.concat(parts);
      if (!verifySignature(SECRET, body, req.headers["fleetdrop-signature"] as string).ok) badSignatures++;
      const event = JSON.parse(body.toString()) as { device: { serial: string }; data: { filename: string } };
      const [phase, seqText] = event.data.filename.split("-");
      const key = `${phase}/${event.device.serial}`;
      const seq = Number(seqText);
      if (seq !== (nextSeq.get(key) ?? 0)) outOfOrder++;
      nextSeq.set(key, seq + 1);
      if (phase === "paced") receivedAt.set(`${event.device.serial}/${event.data.filename}`, at);
      received++;
      res.writeHead(204).end();
    });
  });
  receiver.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "bench", name: "Bench" } });
  const sessions: { serial: string; sessionId: number }[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const device = await prisma.device.create({ data: { serial: `BENCH-${i}`, name: `bench ${i}`, projectId: project.id } });
    const session = await prisma.session.create({ data: { deviceId: device.id, projectId: project.id, name: "bench" } });
    sessions.push({ serial: device.serial, sessionId: session.id });
  }
  await prisma.webhookEndpoint.create({ data: { projectId: project.id, url, secret: SECRET, events: ["file.uploaded"] } });
  await prisma.$disconnect();

  const worker = await startWorkerProcess({
    DATABASE_URL: db.url,
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: "bench:webhook-worker",
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: storeDir,
    FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: "true",
    WEBHOOK_DELIVERY_CONCURRENCY: String(Math.min(64, DEVICES)),
  });
  const writers = await Promise.all(
    sessions.map(async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return client;
    }),
  );
  const complete = async (writer: pg.Client, target: { serial: string; sessionId: number }, filename: string) => {
    await writer.query(
      `INSERT INTO files (session_id, filename, object_key, content_type, size_limit, state, size, etag, expires_at, uploaded_at)
       VALUES ($1, $2, $3, 'application/octet-stream', 1024, 'uploaded', 1024, 'e', now(), now())`,
      [target.sessionId, filename, `sessions/${target.serial}/${target.sessionId}/${filename}`],
    );
    committedAt.set(`${target.serial}/${filename}`, performance.now());
  };
  const waitFor = async (count: number) => {
    const deadline = performance.now() + 600_000;
    while (received < count) {
      if (performance.now() > deadline) throw new Error(`timed out: ${received} of ${count} events received`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  try {
    // Throughput: every writer commits its N completions as fast as it can.
    const started = performance.now();
    await Promise.all(
      writers.map(async (writer, i) => {
        for (let seq = 0; seq < EVENTS; seq++) await complete(writer, sessions[i]!, `burst-${seq}`);
      }),
    );
    await waitFor(DEVICES * EVENTS);
    const eventsPerSecond = (DEVICES * EVENTS) / ((performance.now() - started) / 1000);

    // Delay: completions paced across the devices at RATE per second.
    const total = Math.round(RATE * SECONDS);
    const paced = performance.now();
    const seqs = Array.from({ length: DEVICES }, () => 0);
    const inFlight: Promise<void>[] = [];
    for (let n = 0; n < total; n++) {
      const due = paced + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const i = n % DEVICES;
      // One writer per device: its completions commit in order, as one device's do.
      const previous = inFlight[i] ?? Promise.resolve();
      inFlight[i] = previous.then(() => complete(writers[i]!, sessions[i]!, `paced-${seqs[i]!++}`));
    }
    await Promise.all(inFlight);
    await waitFor(DEVICES * EVENTS + total);
    // An event can reach the receiver before the writer sees its COMMIT acknowledged: 0 then.
    const delays = [...receivedAt].map(([key, at]) => Math.max(0, at - committedAt.get(key)!));
    const sorted = delays.sort((a, b) => a - b);
    const lost = DEVICES * EVENTS + total - received;
    return { eventsPerSecond, p50: percentile(sorted, 50), p99: percentile(sorted, 99), badSignatures, outOfOrder, lost };
  } finally {
    await Promise.all(writers.map((writer) => writer.end()));
    await worker.stop();
    receiver.close();
    await broker.stop();
    await broker.cleanup();
    await db.drop();
    await rm(storeDir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`machine: ${machineDescription()}`);
  console.log(`${DEVICES} devices; burst of ${DEVICES} × ${EVENTS} uploads; then ${RATE}/s for ${SECONDS} s; ${RUNS} runs\n`);
  await buildWorker();
  const runs: TRun[] = [];
  console.log("| run | events/s (burst) | delay p50 ms (paced) | delay p99 ms (paced) | bad signatures | out of order | lost |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (let run = 1; run <= RUNS; run++) {
    const result = await oneRun(run);
    runs.push(result);
    console.log(
      `| ${run} | ${result.eventsPerSecond.toFixed(0)} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} ` +
        `| ${result.badSignatures} | ${result.outOfOrder} | ${result.lost} |`,
    );
  }
  console.log(
    `| median | ${median(runs.map((r) => r.eventsPerSecond)).toFixed(0)} | ${median(runs.map((r) => r.p50)).toFixed(1)} ` +
      `| ${median(runs.map((r) => r.p99)).toFixed(1)} | | | |`,
  );
  if (runs.some((r) => r.badSignatures || r.outOfOrder || r.lost)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
