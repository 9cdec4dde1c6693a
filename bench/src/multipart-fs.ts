/**
 * Benchmark: a large file (4 GiB) uploaded in parts through the fs store, end to end as a device
 * does it (the device SDK's uploadMultipart: create, parts PUT in parallel to the worker's fs
 * endpoint, complete), against the disk's durable write rate measured in the same run: `dd` of
 * the same file with O_DIRECT and a final fsync, right before each upload. Also records the
 * worker's RSS growth (sampled from /proc) and checks the stored file's SHA-256.
 *
 * The device sends no checksum, so the worker computes the stored file's SHA-256 after the upload
 * (its background hasher reads the object once): each run waits for that digest before the next
 * starts, so no upload is measured against the previous file's hashing, and the time it took is
 * reported beside the upload.
 *
 *   npm run bench -- multipart-fs [--size-mib 4096] [--runs 3] [--part-mib 64] [--concurrency 4] [--dir DIR]
 *
 * Targets: the upload at ≥ 70 % of dd's rate (median of the runs), worker RSS growth ≤ 64 MB.
 * Needs about 3 × the file's size free in --dir (the source, dd's copy, the stored object).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { machineDescription } from "./machine";
import { processCpuSeconds } from "./proc-cpu";
import { generateFile } from "./generate-file";
import { diskDescription, median, startPlatform } from "./multipart-common";

const MIB = 1024 * 1024;
const TARGET_RATIO = 0.7;
const TARGET_GROWTH_MB = 64;

const { values } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "4096" },
    runs: { type: "string", default: "3" },
    "part-mib": { type: "string", default: "64" },
    concurrency: { type: "string", default: "4" },
    dir: { type: "string" },
  },
});
const sizeMiB = Number(values["size-mib"]);
const runs = Number(values.runs);
const partSize = Number(values["part-mib"]) * MIB;
const concurrency = Number(values.concurrency);

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Seconds until the worker has recorded the SHA-256 of the file stored under `objectKey`. */
async function hashedAfter(db: pg.Client, objectKey: string, startedAt: number): Promise<{ seconds: number; sha256: string | null }> {
  for (;;) {
    const row = await db.query<{ sha256: string | null; due: boolean }>(
      "SELECT sha256, sha256_due_at IS NOT NULL AS due FROM files WHERE object_key = $1",
      [objectKey],
    );
    const file = row.rows[0];
    if (file && (file.sha256 !== null || !file.due)) return { seconds: (performance.now() - startedAt) / 1000, sha256: file.sha256 };
    if (performance.now() - startedAt > 300_000) throw new Error(`the worker did not hash ${objectKey} within 300 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<number> {
  const work = await mkdtemp(path.join(values.dir ?? os.tmpdir(), "fd-bench-multipart-"));
  console.log(`machine: ${machineDescription()}`);
  console.log(`disk: ${diskDescription(work)}; files in ${work}`);
  console.log(`file: ${sizeMiB} MiB of random bytes, parts of ${partSize / MIB} MiB, ${concurrency} in parallel, ${runs} runs\n`);
  const platform = await startPlatform("bench-multipart", work);
  const source = path.join(work, "source.bin");
  const ddTarget = path.join(work, "dd.bin");
  let failed = false;
  try {
    const sha256 = await generateFile(source, sizeMiB);
    const device = await FleetdropDevice.connect({ url: platform.broker.url, deviceId: platform.deviceId, timeoutMs: 120_000 });
    const db = new pg.Client({ connectionString: platform.db.url });
    await db.connect();
    try {
      // Warm-up (not in the table): the worker's code paths compiled before they are measured.
      const warm = path.join(work, "warm.bin");
      await generateFile(warm, 128);
      const warmed = await device.uploadMultipart(warm, {
        session: platform.sessionId,
        filename: "warm.bin",
        partSize: 16 * MIB,
        checksum: false,
      });
      await hashedAfter(db, warmed.objectKey, performance.now());
      await rm(warm);

      const rows: { dd: number; upload: number; ratio: number; growth: number }[] = [];
      for (let run = 1; run <= runs; run++) {
        const ddStarted = performance.now();
        const dd = spawnSync("dd", [`if=${source}`, `of=${ddTarget}`, "bs=4M", "oflag=direct", "conv=fsync"], { encoding: "utf8" });
        const ddSeconds = (performance.now() - ddStarted) / 1000;
        if (dd.status !== 0) throw new Error(`dd failed: ${dd.stderr}`);
        await rm(ddTarget);

        const before = platform.worker.rss();
        platform.worker.markMemory();
        const workerCpu = processCpuSeconds(platform.worker.child.pid);
        const deviceCpu = process.cpuUsage();
        const started = performance.now();
        const result = await device.uploadMultipart(source, {
          session: platform.sessionId,
          filename: `run-${run}.bin`,
          partSize,
          concurrency,
          checksum: false,
        });
        const seconds = (performance.now() - started) / 1000;
        const gib = sizeMiB / 1024;
        const workerCpuPerGib = (processCpuSeconds(platform.worker.child.pid) - workerCpu) / gib;
        const spent = process.cpuUsage(deviceCpu);
        const deviceCpuPerGib = (spent.user + spent.system) / 1e6 / gib;
        const growth = (platform.worker.peakSinceMark() - before) / 1e6;
        const hashed = await hashedAfter(db, result.objectKey, performance.now());
        const stored = path.join(platform.storeDir, "fleetdrop", "objects", ...result.objectKey.split("/"));
        const storedSha = await sha256Of(stored);
        if (storedSha !== sha256 || hashed.sha256 !== sha256 || result.size !== sizeMiB * MIB) {
          console.error(`run ${run}: the stored file differs from the source`);
          failed = true;
        }
        await rm(stored);
        const size = sizeMiB * MIB;
        const row = { dd: size / ddSeconds / 1e6, upload: size / seconds / 1e6, ratio: ddSeconds / seconds, growth };
        rows.push(row);
        console.log(
          `run ${run}: dd ${row.dd.toFixed(0)} MB/s, multipart upload ${row.upload.toFixed(0)} MB/s ` +
            `(${(row.ratio * 100).toFixed(0)} % of dd, ${result.partCount} parts), ` +
            `worker RSS growth ${row.growth.toFixed(1)} MB, ` +
            `CPU per GiB: worker ${workerCpuPerGib.toFixed(2)} s, device ${deviceCpuPerGib.toFixed(2)} s, ` +
            `SHA-256 ${storedSha === sha256 ? "ok" : "WRONG"}, the worker's ${hashed.sha256 === sha256 ? "ok" : "WRONG"} ` +
            `${hashed.seconds.toFixed(1)} s after the upload`,
        );
      }
      const ratio = median(rows.map((row) => row.ratio));
      const growth = Math.max(...rows.map((row) => row.growth));
      console.log(
        `\nmedian: dd ${median(rows.map((row) => row.dd)).toFixed(0)} MB/s, ` +
          `upload ${median(rows.map((row) => row.upload)).toFixed(0)} MB/s, ` +
          `${(ratio * 100).toFixed(0)} % of dd (target ≥ ${TARGET_RATIO * 100} %); ` +
          `largest RSS growth ${growth.toFixed(1)} MB (target ≤ ${TARGET_GROWTH_MB} MB)`,
      );
      if (ratio < TARGET_RATIO || growth > TARGET_GROWTH_MB) failed = true;
    } finally {
      await db.end();
      await device.close();
    }
  } finally {
    await platform.stop();
    await rm(work, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
