/**
 * Benchmark of the upload agent (`fleetdrop-device agent`), the two numbers the issue asks for:
 * - idle CPU: the agent, in its own process, watching folders that hold `--files` files it has
 *   already uploaded (its queue says so), over `--idle` seconds, as a share of one core. The
 *   folders are walked every `--rescan` seconds (default 30, ten times as often as the agent's
 *   default of 300), so the walk's cost is in the figure;
 * - ready → upload start: `--latency` new files dropped one at a time into a rule with
 *   `stableSeconds: 1`; a file is ready one second after its last write (its mtime + 1 s), and its
 *   upload starts when the platform records its upload request (files.created_at, the same
 *   machine's clock).
 * Against a real Mosquitto, the worker's production bundle and PostgreSQL, over `--runs` runs,
 * each with a fresh agent; medians at the end.
 *
 *   npm run bench -- agent [--files 10000] [--idle 60] [--rescan 30] [--latency 10] [--runs 3]
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { AgentQueue } from "@fleetdrop/device/agent/queue";
import { startMosquitto } from "@fleetdrop/test-broker";
import { machineDescription } from "./machine";
import { processCpuSeconds } from "./proc-cpu";
import { median } from "./stats";
import { buildWorker, root, startWorkerProcess } from "./worker-process";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "10000" },
    idle: { type: "string", default: "60" },
    rescan: { type: "string", default: "30" },
    latency: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
  },
});
const FILES = Number(values.files);
const IDLE_S = Number(values.idle);
const RESCAN_S = Number(values.rescan);
const LATENCY_FILES = Number(values.latency);
const RUNS = Number(values.runs);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  console.log(`machine: ${machineDescription()}`);
  console.log(
    `agent: ${FILES} uploaded files in its folders, idle ${IDLE_S} s (walks every ${RESCAN_S} s), ` +
      `${LATENCY_FILES} new files per run, ${RUNS} runs\n`,
  );
  await buildWorker();
  const db = await createTestDatabase("bench-agent");
  const broker = await startMosquitto();
  const work = await mkdtemp(path.join(tmpdir(), "fd-bench-agent-"));
  const storeDir = path.join(work, "store");
  const worker = await startWorkerProcess({
    DATABASE_URL: db.url,
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: "bench:agent-worker",
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: storeDir,
    FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
  });
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "bench", name: "Bench" } });
  await prisma.device.create({ data: { serial: "BENCH-AGENT", name: "bench agent", projectId: project.id } });

  const results: { idle: number; latencies: number[] }[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const dir = path.join(work, `run-${run}`);
      const folder = path.join(dir, "data");
      const fresh = path.join(dir, "fresh");
      const stateDir = path.join(dir, "state");
      // The old files: 100 folders of 100, each with a queue entry saying it was uploaded.
      const queue = await AgentQueue.load(stateDir);
      for (let i = 0; i < FILES; i++) {
        const sub = path.join(folder, `d${String(Math.floor(i / 100)).padStart(3, "0")}`);
        if (i % 100 === 0) await mkdir(sub, { recursive: true });
        const file = path.join(sub, `f${i}.log`);
        await writeFile(file, `line ${i}\n`);
        const info = await stat(file);
        const entry = queue.offer({
          rule: "old",
          path: file,
          name: path.relative(folder, file),
          size: info.size,
          mtimeMs: info.mtimeMs,
          priority: 0,
          readyAt: Date.now(),
          sessionKey: "folder:old",
        })!;
        queue.update(entry, { status: "done", doneAt: Date.now() });
      }
      await queue.save();
      await mkdir(fresh, { recursive: true });
      const config = path.join(dir, "agent.json");
      await writeFile(
        config,
        JSON.stringify({
          stateDir,
          rescanSeconds: RESCAN_S,
          connection: { url: broker.url, deviceId: "BENCH-AGENT", protocolVersion: 5 },
          rules: [
            { name: "old", folder, include: ["*.log"], ready: { stableSeconds: 1 } },
            { name: "fresh", folder: fresh, ready: { stableSeconds: 1 }, session: { name: `bench run ${run}` } },
          ],
        }),
      );
      let output = "";
      const agent = spawn(
        process.execPath,
        ["--import", "tsx", path.join(root, "packages/device/src/cli/main.ts"), "agent", "--config", config],
        {
          cwd: path.join(root, "packages/device"),
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      agent.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      agent.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      for (let waited = 0; !/connected as/.test(output); waited += 100) {
        if (agent.exitCode !== null || waited > 120_000) throw new Error(`the agent did not start:\n${output}`);
        await sleep(100);
      }
      // Let start-up (tsx compiling, the first walk) settle before measuring.
      await sleep(5000);
      const cpuBefore = processCpuSeconds(agent.pid);
      const t0 = performance.now();
      await sleep(IDLE_S * 1000);
      const idle = (processCpuSeconds(agent.pid) - cpuBefore) / ((performance.now() - t0) / 1000);
      if (/uploaded /.test(output)) throw new Error(`the agent uploaded an old file again:\n${output}`);

      const latencies: number[] = [];
      for (let i = 0; i < LATENCY_FILES; i++) {
        const name = `new-${run}-${i}.bin`;
        const file = path.join(fresh, name);
        await writeFile(file, Buffer.alloc(4096, i));
        const readyAt = (await stat(file)).mtimeMs + 1000;
        let row: { createdAt: Date } | null = null;
        for (let waited = 0; !row; waited += 20) {
          row = await prisma.file.findFirst({ where: { filename: name }, select: { createdAt: true } });
          if (!row) {
            if (waited > 30_000) throw new Error(`${name} was not requested within 30 s:\n${output}`);
            await sleep(20);
          }
        }
        latencies.push((row.createdAt.getTime() - readyAt) / 1000);
        await sleep(500);
      }
      const exited = new Promise((resolve) => agent.once("exit", resolve));
      agent.kill("SIGTERM");
      await exited;
      results.push({ idle, latencies });
      console.log(
        `run ${run}: idle CPU ${(idle * 100).toFixed(2)} % of a core; ` +
          `ready → upload start median ${median(latencies).toFixed(2)} s, max ${Math.max(...latencies).toFixed(2)} s`,
      );
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await prisma.$disconnect();
    await worker.stop();
    await broker.stop();
    await broker.cleanup();
    await db.drop();
    await rm(work, { recursive: true, force: true });
  }
  const idle = median(results.map((r) => r.idle));
  const latency = median(results.map((r) => median(r.latencies)));
  const worst = Math.max(...results.flatMap((r) => r.latencies));
  console.log(
    `\nmedian of ${RUNS} runs: idle CPU ${(idle * 100).toFixed(2)} % of a core (target < 1 %); ` +
      `ready → upload start ${latency.toFixed(2)} s (target ≤ 2 s), ` +
      `worst single file ${worst.toFixed(2)} s`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
