/**
 * Benchmark of file_transfer, a file over MQTT: one device sends a 256 MiB file through a real
 * Mosquitto to the real worker (production bundle, own process, PostgreSQL staging, fs store),
 * timed from `init` to the verified `fin` answer, with the worker's resident memory sampled.
 * Beside it, the ceiling measured the same way in the same run: the same segments published at
 * QoS 1 with the same window to a subscriber that only counts bytes. A ceiling is measured before
 * the first transfer of a segment size and after each one, and a transfer is set against the mean
 * of the two around it: on these shared 2-core machines ceilings measured a few seconds apart
 * differ by up to 50 % (475 and 712 MB/s in one invocation), far more than the worker's rates, so
 * a ratio to a single ceiling mostly measured that ceiling's luck.
 *
 * Both staging modes of the worker are measured: segment bytes in PostgreSQL (the default) and in
 * files (TRANSFER_STAGING_DIR, a folder made under `--staging-parent`, the OS temp folder by default;
 * `--staging-parent /dev/shm` takes the disk out of the staging).
 *
 * Where the time goes is printed too: the worker's CPU seconds during the transfer (its main
 * thread, and all its threads), how many of the machine's cores were busy on average, and for the
 * ceiling and the transfer alike the CPU seconds of the broker, of the publishing side (this
 * process) and of the worker, beside the whole machine's;
 * BENCH_VERBOSE=1 adds the worker's segment batches (how many, their size and time).
 *
 * Each staging mode gets a Mosquitto of its own (its ceiling and its transfers share it). After
 * the PostgreSQL-staging runs, where the worker takes segments at about 100 MB/s and the broker
 * holds the rest, the same Mosquitto spent 0.4–1.2 CPU-seconds per 256 MiB on the file-staging
 * transfers instead of 0.3–0.5, and those fell to 28–60 % of the ceiling (54–80 % on a fresh one).
 *
 *   npm run bench -- mqtt-transfer [--mb 256] [--segments 64k,256k] [--window 64] [--runs 3] \
 *     [--staging postgres,files] [--staging-parent DIR]
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { disableNagle } from "@fleetdrop/mqtt-internals";
import { startMosquitto } from "@fleetdrop/test-broker";
import mqtt, { type MqttClient } from "mqtt";
import { machineDescription } from "./machine";
import { cpuSpending, threadCpuSeconds, type TCpuSpent } from "./proc-cpu";
import { median } from "./stats";
import { buildWorker, startWorkerProcess } from "./worker-process";

const { values } = parseArgs({
  options: {
    mb: { type: "string", default: "256" },
    segments: { type: "string", default: "64k,256k" },
    window: { type: "string", default: "64" },
    runs: { type: "string", default: "3" },
    staging: { type: "string", default: "postgres,files" },
    "staging-parent": { type: "string" },
  },
});
const SIZE = Number(values.mb) * 1024 * 1024;
const SEGMENTS = values.segments.split(",").map((text) => Number(text.replace(/k$/i, "")) * (/k$/i.test(text) ? 1024 : 1));
const WINDOW = Number(values.window);
const RUNS = Number(values.runs);
const MB = 1e6;
/** BENCH_VERBOSE=1: also print the worker's segment batches (count, size, time) per transfer. */
const VERBOSE = process.env.BENCH_VERBOSE === "1";

async function connect(url: string, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 5, clean: true });
  disableNagle(client);
  return client;
}

/** Publishes every segment of `file` at QoS 1, at most `window` unacknowledged at once. */
async function publishSegments(client: MqttClient, topicOf: (offset: number) => string, file: Buffer, segment: number): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (let offset = 0; offset < file.length; offset += segment) {
    const sending: Promise<unknown> = client
      .publishAsync(topicOf(offset), file.subarray(offset, offset + segment), { qos: 1 })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

async function ceiling(url: string, file: Buffer, segment: number): Promise<number> {
  const subscriber = await connect(url, `bench-count-${Date.now()}`);
  const publisher = await connect(url, `bench-pub-${Date.now()}`);
  let bytes = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  subscriber.on("message", (_topic, payload) => {
    bytes += payload.length;
    if (bytes >= file.length) done();
  });
  await subscriber.subscribeAsync("bench/ceiling/#", { qos: 1 });
  const started = performance.now();
  await publishSegments(publisher, (offset) => `bench/ceiling/${offset}`, file, segment);
  await all;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  return file.length / MB / seconds;
}

async function transfer(url: string, file: Buffer, sha256: string, segment: number, sessionId: number, fileId: string): Promise<number> {
  const device = await connect(url, `BENCH-DEV-${Date.now()}`);
  const base = "fleetdrop/fleet/BENCH-DEV/file_transfer/";
  const answers: Record<string, unknown>[] = [];
  device.on("message", (_topic, payload) => answers.push(JSON.parse(payload.toString())));
  await device.subscribeAsync(`${base}response`, { qos: 1 });
  const answer = async (command: string) => {
    for (;;) {
      const index = answers.findIndex((a) => a.command === command && a.file_id === fileId);
      if (index >= 0) return answers.splice(index, 1)[0]!;
      const refused = answers.find((a) => a.success === false);
      if (refused) throw new Error(`refused: ${JSON.stringify(refused)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const started = performance.now();
  await device.publishAsync(
    `${base}${fileId}/init`,
    JSON.stringify({ session_id: sessionId, name: `bench/${fileId}.bin`, size: file.length, checksum: sha256 }),
    { qos: 1 },
  );
  const init = await answer("init");
  if (init.success !== true) throw new Error(`init refused: ${JSON.stringify(init)}`);
  await publishSegments(device, (offset) => `${base}${fileId}/${offset}`, file, segment);
  await device.publishAsync(`${base}${fileId}/fin/${file.length}/${sha256}`, "", { qos: 1 });
  const fin = await answer("fin");
  const seconds = (performance.now() - started) / 1000;
  await device.endAsync();
  if (fin.success !== true || fin.sha256 !== sha256) throw new Error(`fin failed: ${JSON.stringify(fin)}`);
  return file.length / MB / seconds;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function main() {
  console.log(`machine: ${machineDescription()}`);
  console.log(`file: ${values.mb} MiB of random bytes; segments: ${values.segments}; window: ${WINDOW} QoS 1 publishes; runs: ${RUNS}\n`);
  await buildWorker();
  const db = await createTestDatabase("bench-transfer");
  const storeDir = await mkdtemp(path.join(tmpdir(), "fd-bench-transfer-"));
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const project = await prisma.project.create({ data: { slug: "bench", name: "Bench" } });
  const device = await prisma.device.create({ data: { serial: "BENCH-DEV", name: "bench", projectId: project.id } });
  const sessionId = (await prisma.session.create({ data: { deviceId: device.id, projectId: project.id, name: "bench" } })).id;
  await prisma.$disconnect();

  const file = randomBytes(SIZE);
  const sha256 = createHash("sha256").update(file).digest("hex");
  const rows: string[] = [];
  const results = new Map<string, { ceiling: number; rate: number; growth: number }[]>();
  let n = 0;
  try {
    for (const staging of values.staging.split(",")) {
      const broker = await startMosquitto();
      const stagingDir = staging === "files" ? await mkdtemp(path.join(values["staging-parent"] ?? tmpdir(), "fd-bench-staging-")) : null;
      const worker = await startWorkerProcess({
        DATABASE_URL: db.url,
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `bench-transfer-worker:${staging}`,
        STORAGE_BACKEND: "fs",
        FS_STORE_DIR: storeDir,
        FS_SECRET_ACCESS_KEY: "bench-secret-0123456789abcdef",
        ...(stagingDir ? { TRANSFER_STAGING_DIR: stagingDir } : {}),
      });
      try {
        // Warm-up, outside the table: one whole ceiling and one whole transfer, so that both
        // sides run compiled code when measured. After a shorter warm-up (4 MiB, even 64 MiB) the
        // first measured transfer after each worker start is the slowest of its invocation:
        // `--trace-opt` shows V8 optimising 150-280 functions during it (the MQTT parser, the
        // segment route, the staging) against 11-38 in later transfers. The counting subscriber
        // (this process) warms up in its first ceiling the same way. Both warm-up rates are
        // printed, so the first transfer after a start is not hidden.
        const warmCeiling = await ceiling(broker.url, file, SEGMENTS[0]!);
        const warmBefore = worker.rss();
        worker.markMemory();
        const warmTransfer = await transfer(broker.url, file, sha256, SEGMENTS[0]!, sessionId, `warmup-${staging}`);
        console.log(
          `${staging}, warm-up (not in the table), ${SEGMENTS[0]! / 1024} KiB segments: ceiling ${fmt(warmCeiling)} MB/s; ` +
            `the first transfer after the worker started ${fmt(warmTransfer)} MB/s, ` +
            `worker RSS ${mib(warmBefore)} -> peak ${mib(worker.peakSinceMark())} MiB`,
        );
        await new Promise((resolve) => setTimeout(resolve, 3000));
        for (const segment of SEGMENTS) {
          const measureCeiling = async () => {
            const ceilingCpu = cpuSpending([broker.pid]);
            const rate = await ceiling(broker.url, file, segment);
            return { rate, spent: ceilingCpu.spent() };
          };
          // Each transfer is set against the mean of the ceilings measured just before and just
          // after it (every ceiling but the first and last serves two transfers).
          let ceilingBefore = await measureCeiling();
          for (let run = 0; run < RUNS; run++) {
            const before = worker.rss();
            const batchesBefore = VERBOSE ? await segmentBatches(worker.httpPort) : null;
            worker.markMemory();
            const pid = worker.child.pid!;
            const cpu = { main: threadCpuSeconds(pid), at: performance.now() };
            const transferCpu = cpuSpending([broker.pid, pid]);
            const rate = await transfer(broker.url, file, sha256, segment, sessionId, `bench-${segment}-${n++}`);
            const transferSpent = transferCpu.spent();
            const elapsed = (performance.now() - cpu.at) / 1000;
            const main = threadCpuSeconds(pid) - cpu.main;
            const all = transferSpent.processes[1]!;
            const busyCores = transferSpent.machine / elapsed;
            const peak = worker.peakSinceMark();
            const batchesAfter = batchesBefore ? await segmentBatches(worker.httpPort) : null;
            // Let the worker delete the staged segments before the next ceiling.
            await new Promise((resolve) => setTimeout(resolve, 3000));
            const ceilingAfter = await measureCeiling();
            const top = (ceilingBefore.rate + ceilingAfter.rate) / 2;
            rows.push(
              `| ${staging} | ${segment / 1024} KiB | ${fmt(ceilingBefore.rate)} / ${fmt(ceilingAfter.rate)} | ${fmt(rate)} ` +
                `| ${fmt((rate / top) * 100, 0)}% | ${mib(before)} | ${mib(peak)} | ${mib(peak - before)} ` +
                `| ${fmt(main, 2)} / ${fmt(all, 2)} | ${fmt(busyCores, 2)} |`,
            );
            console.log(rows.at(-1));
            const key = `${staging} | ${segment / 1024} KiB`;
            if (!results.has(key)) results.set(key, []);
            results.get(key)!.push({ ceiling: top, rate, growth: peak - before });
            console.log(
              `    CPU s, ceiling before: ${describeSplit(ceilingBefore.spent, "publisher + counting subscriber")}; ` +
                `transfer: ${describeSplit(transferSpent, "device")}`,
            );
            if (batchesBefore && batchesAfter) {
              const count = batchesAfter.count - batchesBefore.count;
              console.log(
                `    ${count} segment batches, ${fmt((batchesAfter.bytes - batchesBefore.bytes) / Math.max(1, count) / 1048576, 2)} ` +
                  `MiB and ${fmt(((batchesAfter.seconds - batchesBefore.seconds) / Math.max(1, count)) * 1000, 1)} ms ` +
                  `each on average (${fmt(batchesAfter.seconds - batchesBefore.seconds, 2)} s of ${fmt(elapsed, 2)} s)` +
                  (staging === "files"
                    ? `; staging writes: ${mib(batchesAfter.direct - batchesBefore.direct)} MiB direct, ` +
                      `${mib(batchesAfter.buffered - batchesBefore.buffered)} MiB through the page cache`
                    : ""),
              );
            }
            ceilingBefore = ceilingAfter;
          }
        }
        const metrics = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
        const assembled = Number(/^fleetdrop_transfer_assemble_seconds_sum (\S+)/m.exec(metrics)?.[1] ?? 0);
        console.log(
          `  (${staging}: assembly, SHA-256 and storing took ${assembled.toFixed(2)} s in total over these runs and the warm-up)`,
        );
      } finally {
        await worker.stop();
        if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
        await broker.stop();
        await broker.cleanup();
      }
    }
  } finally {
    await db.drop();
    await rm(storeDir, { recursive: true, force: true });
  }
  console.log(
    `\n| staging | segment | ceiling MB/s before / after (QoS 1 pub → counting sub) ` +
      `| worker MB/s (init → verified fin) | of ceiling (their mean) ` +
      `| worker RSS before MiB | peak MiB | growth MiB ` +
      `| worker CPU s (main thread / all) | busy cores (of ${cpus().length}) |`,
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) console.log(row);
  console.log(
    `\nPer staging mode and segment size, over the ${RUNS} run(s) above ` +
      `(each ratio is a run's worker rate over the mean of the ceilings measured just before and just after it):\n`,
  );
  console.log(
    "| staging | segment | median ceiling MB/s (means) | median worker MB/s | median of ceiling | lowest of ceiling | largest growth MiB |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const [key, list] of results) {
    const ratios = list.map((r) => r.rate / r.ceiling);
    console.log(
      `| ${key} | ${fmt(median(list.map((r) => r.ceiling)))} | ${fmt(median(list.map((r) => r.rate)))} ` +
        `| ${fmt(median(ratios) * 100, 0)}% | ${fmt(Math.min(...ratios) * 100, 0)}% | ${mib(Math.max(...list.map((r) => r.growth)))} |`,
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

/** `spent.processes`: the broker's, then (for a transfer) the worker's; the rest is PostgreSQL, the kernel's threads and anything else. */
function describeSplit(spent: TCpuSpent, client: string): string {
  const [broker = 0, worker] = spent.processes;
  const rest = spent.machine - broker - spent.self - (worker ?? 0);
  return (
    `broker ${fmt(broker, 2)}, ${client} ${fmt(spent.self, 2)}${worker === undefined ? "" : `, worker ${fmt(worker, 2)}`}` +
    `, rest ${fmt(rest, 2)} (machine ${fmt(spent.machine, 2)})`
  );
}

/** The worker's segment batch counters (count, payload bytes, seconds spent), from /metrics. */
async function segmentBatches(
  httpPort: number,
): Promise<{ count: number; bytes: number; seconds: number; direct: number; buffered: number }> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? 0);
  return {
    count: read("fleetdrop_transfer_segment_batch_seconds_count"),
    bytes: read("fleetdrop_transfer_segment_batch_bytes_sum"),
    seconds: read("fleetdrop_transfer_segment_batch_seconds_sum"),
    direct: read('fleetdrop_transfer_staging_written_bytes_total\\{io="direct"\\}'),
    buffered: read('fleetdrop_transfer_staging_written_bytes_total\\{io="buffered"\\}'),
  };
}
