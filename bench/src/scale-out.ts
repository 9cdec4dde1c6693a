/**
 * Scale-out: throughput of 1 vs 2 (or more) ingest workers in one shared subscription group
 * ($share/ingest/…), each worker its own process running the production bundle, on one real
 * Mosquitto and PostgreSQL. K simulated devices each run a closed loop (request, wait for the
 * answer, next request). A fresh broker per worker count, so no session carries over.
 *
 *   npm run bench -- scale-out [--workers 1,2] [--devices 200] [--seconds 10]
 *
 * On a 2-core machine the workers, the broker, PostgreSQL and the load generator share the same
 * two cores: the numbers say how the split behaves there, not what two hosts would do.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { freePort, startMosquitto } from "@fleetdrop/test-broker";
import { closedLoop, connectDevices, quantile } from "./closed-loop";
import { machineDescription } from "./machine";
import { buildWorker, workerNodeArgs } from "./worker-process";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "1,2" },
    devices: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
  },
});
const WORKER_COUNTS = values.workers.split(",").map(Number);
const DEVICES = Number(values.devices);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);

type TRun = { workers: number; rps: number; p50: number; p99: number; errors: number; perWorker: number[] };

async function startWorker(env: Record<string, string>, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, workerNodeArgs(), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${output.slice(-2000)}`);
    if (
      await fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`worker did not become ready:\n${output.slice(-2000)}`);
}

async function handledBy(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("fleetdrop_requests_total{"))
    .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

async function main() {
  console.log(`machine: ${machineDescription()}`);
  console.log(
    `workers: ${WORKER_COUNTS.join(", ")} in one shared group; ` +
      `${DEVICES} devices in closed loops; ${SECONDS} s measured after ${WARMUP} s warm-up\n`,
  );
  await buildWorker();

  const db = await createTestDatabase("bench-scale");
  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-bench-scale-"));
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "scale", name: "Scale" } });
  const sessionIds: number[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const device = await prisma.device.create({ data: { serial: `SCALE-${i}`, name: `scale ${i}`, projectId: project.id } });
    sessionIds.push((await prisma.session.create({ data: { deviceId: device.id, projectId: project.id, name: "bench" } })).id);
  }
  await prisma.$disconnect();

  const runs: TRun[] = [];
  try {
    for (const count of WORKER_COUNTS) {
      const broker = await startMosquitto();
      const workers: { child: ChildProcess; port: number }[] = [];
      try {
        for (let w = 0; w < count; w++) {
          const port = await freePort();
          const child = await startWorker(
            {
              DATABASE_URL: db.url,
              MQTT_URL: broker.url,
              MQTT_CLIENT_ID: `scale-worker:${count}-${w}`,
              MQTT_SHARED_GROUP: "ingest",
              STORAGE_BACKEND: "fs",
              FS_STORE_DIR: storeDir,
              FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
              FS_PUBLIC_URL: `http://127.0.0.1:${port}`,
              HTTP_PORT: String(port),
              HTTP_HOST: "127.0.0.1",
              LOG_LEVEL: "warn",
            },
            port,
          );
          workers.push({ child, port });
        }
        const clients = await connectDevices(broker.url, DEVICES, "SCALE-", `scale-dev-${count}`);
        await closedLoop(clients, { serialPrefix: "SCALE-", sessionIds, seconds: WARMUP, round: `w${count}-warm` });
        const before = await Promise.all(workers.map((worker) => handledBy(worker.port)));
        const { latencies, errors, elapsed } = await closedLoop(clients, {
          serialPrefix: "SCALE-",
          sessionIds,
          seconds: SECONDS,
          round: `w${count}`,
        });
        const after = await Promise.all(workers.map((worker) => handledBy(worker.port)));
        await Promise.all(clients.map((client) => client.endAsync()));
        latencies.sort((a, b) => a - b);
        runs.push({
          workers: count,
          rps: latencies.length / elapsed,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          errors,
          perWorker: after.map((n, i) => n - before[i]!),
        });
      } finally {
        for (const worker of workers) await stop(worker.child);
        await broker.stop();
        await broker.cleanup();
      }
    }
  } finally {
    await db.drop();
    await rm(storeDir, { recursive: true, force: true });
  }

  const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
  console.log("| workers | req/s | vs 1 worker | p50 ms | p99 ms | requests per worker | errors |");
  console.log("|---:|---:|---:|---:|---:|---|---:|");
  const base = runs.find((run) => run.workers === 1)?.rps;
  for (const run of runs) {
    console.log(
      `| ${run.workers} | ${fmt(run.rps, 0)} | ${base ? `${fmt(run.rps / base, 2)}×` : "-"} ` +
        `| ${fmt(run.p50)} | ${fmt(run.p99)} | ${run.perWorker.join(" / ")} | ${run.errors} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
