/**
 * Benchmark of the core flow's request/response (file_upload/request): K simulated devices, each in a
 * closed loop (send a file_upload/request, wait for its answer, send the next), through a real
 * Mosquitto, the real worker (its production bundle, in its own process) and PostgreSQL —
 * beside the same load against a no-op responder on the same broker, the ceiling of any worker.
 *
 *   npm run bench -- upload-requests [--devices 1,50,200] [--seconds 10] [--rounds 1]
 *
 * With `--rounds N` the no-op and worker measurements alternate N times (no-op, worker, no-op,
 * worker, ...), so that drift in whatever else the machine is doing hits both sides alike; each
 * round is printed, then the median of the ratios. The responder's CPU time per request (from
 * /proc, user + system) is printed too, and the worker's PostgreSQL backends' (a local server):
 * they hardly depend on the machine's other load. Below each round, the CPU per request of every
 * process taking part (broker, load generator, responder, PostgreSQL) and the machine's busy
 * cores: where both phases keep the cores busy, the ratio of the totals is the throughput ratio.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { freePort, startMosquitto } from "@fleetdrop/test-broker";
import pg from "pg";
import { closedLoop, connectDevices, quantile } from "./closed-loop";
import { machineDescription } from "./machine";
import { cpuSpending, processCpuSeconds } from "./proc-cpu";
import { median } from "./stats";
import { buildWorker, workerNodeArgs } from "./worker-process";

const here = path.dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "1,50,200" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    rounds: { type: "string", default: "1" },
  },
});
const DEVICE_COUNTS = values.devices.split(",").map(Number);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const ROUNDS = Math.max(1, Number(values.rounds));

type TResult = {
  devices: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  cpuMicrosPerRequest: number;
  dbCpuMicrosPerRequest: number;
  /** Mosquitto's CPU per request. */
  brokerCpuMicrosPerRequest: number;
  /** This process's: the simulated devices (the load generator). */
  loadCpuMicrosPerRequest: number;
  /** The machine's busy cores on average while measuring. */
  busyCores: number;
};

/**
 * CPU seconds used so far by the PostgreSQL backends serving the benchmark's database (the
 * server runs on this machine in every setup the benchmark supports; elsewhere: NaN).
 */
async function databaseCpu(db: pg.Client, database: string): Promise<Map<number, number>> {
  const { rows } = await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [
    database,
  ]);
  return new Map(rows.map((row) => [row.pid, processCpuSeconds(row.pid)]));
}

async function measure(
  url: string,
  count: number,
  sessionIds: number[],
  label: string,
  responderPid: number | undefined,
  db: { client: pg.Client; name: string },
  brokerPid: number | undefined,
): Promise<TResult> {
  const clients = await connectDevices(url, count, "BENCH-", `bench-dev-${label}`);
  await closedLoop(clients, { serialPrefix: "BENCH-", sessionIds, seconds: WARMUP, round: `${label}-warm` });
  const dbBefore = await databaseCpu(db.client, db.name);
  const around = cpuSpending([brokerPid, responderPid]);
  const { latencies, errors, elapsed } = await closedLoop(clients, { serialPrefix: "BENCH-", sessionIds, seconds: SECONDS, round: label });
  const spent = around.spent();
  let dbUsed = 0;
  for (const [pid, seconds] of await databaseCpu(db.client, db.name)) dbUsed += seconds - (dbBefore.get(pid) ?? 0);
  await Promise.all(clients.map((client) => client.endAsync()));
  latencies.sort((a, b) => a - b);
  return {
    devices: count,
    rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    errors,
    cpuMicrosPerRequest: (spent.processes[1]! / latencies.length) * 1e6,
    dbCpuMicrosPerRequest: (dbUsed / latencies.length) * 1e6,
    brokerCpuMicrosPerRequest: (spent.processes[0]! / latencies.length) * 1e6,
    loadCpuMicrosPerRequest: (spent.self / latencies.length) * 1e6,
    busyCores: spent.machine / elapsed,
  };
}

/** Starts a child process and resolves once `ready()` says so (or rejects if it exits first). */
async function startChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: (output: () => string) => Promise<boolean>,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${output.slice(-2000)}`);
    if (await ready(() => output)) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`${name} did not become ready:\n${output.slice(-2000)}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

async function main() {
  console.log(`machine: ${machineDescription()}`);
  console.log(`devices: ${DEVICE_COUNTS.join(", ")}; ${SECONDS} s measured after ${WARMUP} s warm-up per run\n`);

  // Build the worker's production bundle so the benchmark measures what runs in production.
  await buildWorker();

  const broker = await startMosquitto();
  const db = await createTestDatabase("bench");
  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-bench-store-"));
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const maxDevices = Math.max(...DEVICE_COUNTS);
  const project = await prisma.project.create({ data: { slug: "bench", name: "Bench" } });
  const sessionIds: number[] = [];
  for (let i = 0; i < maxDevices; i++) {
    const device = await prisma.device.create({ data: { serial: `BENCH-${i}`, name: `bench ${i}`, projectId: project.id } });
    sessionIds.push((await prisma.session.create({ data: { deviceId: device.id, projectId: project.id, name: "bench" } })).id);
  }
  await prisma.$disconnect();

  const rounds: { ceiling: TResult[]; worker: TResult[] }[] = [];
  const dbProbe = { client: new pg.Client({ connectionString: db.url }), name: db.name };
  await dbProbe.client.connect();
  try {
    // tsx as a loader of this very process (not its CLI, which runs the file in a child): the
    // responder's pid is then the process whose CPU time is read.
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;
    for (let round = 1; round <= ROUNDS; round++) {
      const ceiling: TResult[] = [];
      const worker: TResult[] = [];
      const noop = await startChild(
        "no-op responder",
        ["--import", tsxLoader, path.join(here, "noop-responder.ts")],
        { MQTT_URL: broker.url },
        async (output) => output().includes("ready"),
      );
      for (const count of DEVICE_COUNTS)
        ceiling.push(await measure(broker.url, count, sessionIds, `r${round}-noop-${count}`, noop.pid, dbProbe, broker.pid));
      await stopChild(noop);

      const httpPort = await freePort();
      const workerProcess = await startChild(
        "worker",
        workerNodeArgs(),
        {
          DATABASE_URL: db.url,
          MQTT_URL: broker.url,
          // A new client id per round: the previous round's worker session must not be resumed.
          MQTT_CLIENT_ID: `bench-worker:${round}`,
          STORAGE_BACKEND: "fs",
          FS_STORE_DIR: storeDir,
          FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
          FS_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
          HTTP_PORT: String(httpPort),
          HTTP_HOST: "127.0.0.1",
          LOG_LEVEL: "warn",
          // One device sends thousands of requests a second here: the per-device limits would
          // answer most of them 429, and the benchmark measures the request path, not the limiter.
          RATE_LIMITS: "off",
        },
        () =>
          fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
            (response) => response.ok,
            () => false,
          ),
      );
      for (const count of DEVICE_COUNTS) {
        worker.push(await measure(broker.url, count, sessionIds, `r${round}-worker-${count}`, workerProcess.pid, dbProbe, broker.pid));
        if (process.env.BENCH_VERBOSE) {
          const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
          console.log(
            metrics
              .split("\n")
              .filter((line) => /^fleetdrop_(request_duration_seconds|db_batch_size|db_batch_duration_seconds)_(sum|count)/.test(line))
              .join("\n"),
          );
        }
      }
      await stopChild(workerProcess);
      rounds.push({ ceiling, worker });
      printRound(ROUNDS > 1 ? `round ${round} of ${ROUNDS}` : null, ceiling, worker);
    }
  } finally {
    await dbProbe.client.end();
    await broker.stop();
    await broker.cleanup();
    await db.drop();
    await rm(storeDir, { recursive: true, force: true });
  }

  if (rounds.length > 1) {
    console.log(`\nmedian over ${rounds.length} rounds (each ratio computed within its round):\n`);
    console.log("| devices | no-op req/s | worker req/s | throughput ratio | worker p50 ms | p99 ratio |");
    console.log("|---:|---:|---:|---:|---:|---:|");
    for (const [i, count] of DEVICE_COUNTS.entries()) {
      const pick = (f: (r: { ceiling: TResult[]; worker: TResult[] }) => number) => median(rounds.map(f));
      const ceilingRps = pick((r) => r.ceiling[i]!.rps);
      const workerRps = pick((r) => r.worker[i]!.rps);
      const rpsRatio = pick((r) => r.worker[i]!.rps / r.ceiling[i]!.rps);
      const workerP50 = pick((r) => r.worker[i]!.p50);
      const p99Ratio = pick((r) => r.worker[i]!.p99 / r.ceiling[i]!.p99);
      console.log(
        `| ${count} | ${fmt(ceilingRps, 0)} | ${fmt(workerRps, 0)} | ${fmt(rpsRatio * 100, 0)}% | ${fmt(workerP50)} | ${fmt(p99Ratio)}× |`,
      );
    }
  }
}

function printRound(title: string | null, ceiling: TResult[], worker: TResult[]): void {
  if (title) console.log(`\n${title}\n`);
  console.log(
    "| devices | no-op req/s | worker req/s | ratio | no-op p50 / p90 / p99 ms " +
      "| worker p50 / p90 / p99 ms | p99 ratio | CPU µs/req no-op / worker / its PostgreSQL | errors |",
  );
  console.log("|---:|---:|---:|---:|---|---|---:|---:|---:|");
  for (const [i, c] of ceiling.entries()) {
    const w = worker[i]!;
    console.log(
      `| ${c.devices} | ${fmt(c.rps, 0)} | ${fmt(w.rps, 0)} | ${fmt((w.rps / c.rps) * 100, 0)}% ` +
        `| ${fmt(c.p50)} / ${fmt(c.p90)} / ${fmt(c.p99)} | ${fmt(w.p50)} / ${fmt(w.p90)} / ${fmt(w.p99)} ` +
        `| ${fmt(w.p99 / c.p99)}× | ${fmt(c.cpuMicrosPerRequest, 0)} / ${fmt(w.cpuMicrosPerRequest, 0)} / ` +
        `${fmt(w.dbCpuMicrosPerRequest, 0)} ` +
        `| ${w.errors} |`,
    );
  }
  // Where the cores went: when both sides keep the machine busy, the throughput ratio is about
  // the ratio of the two totals.
  console.log("\nCPU µs per request, by process (the load generator is this process):\n");
  console.log("| devices | phase | broker | load generator | responder | its PostgreSQL | total | busy cores |");
  console.log("|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const [i, c] of ceiling.entries()) {
    for (const [name, r] of [
      ["no-op", c],
      ["worker", worker[i]!],
    ] as const) {
      const db = name === "worker" ? r.dbCpuMicrosPerRequest : 0;
      const total = r.brokerCpuMicrosPerRequest + r.loadCpuMicrosPerRequest + r.cpuMicrosPerRequest + db;
      console.log(
        `| ${r.devices} | ${name} | ${fmt(r.brokerCpuMicrosPerRequest, 0)} | ${fmt(r.loadCpuMicrosPerRequest, 0)} ` +
          `| ${fmt(r.cpuMicrosPerRequest, 0)} | ${name === "worker" ? fmt(db, 0) : "—"} | ${fmt(total, 0)} | ${fmt(r.busyCores)} |`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
