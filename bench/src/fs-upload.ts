/**
 * Benchmark: a 1 GiB upload through the filesystem store's upload endpoint.
 *
 *   pnpm --filter @fleetdrop/bench exec tsx src/fs-upload.ts [--size-mib 1024] [--runs 1]
 *
 * The endpoint runs in a child process (this file with --serve) so that its memory is measured
 * alone: the parent samples the child's RSS from /proc every 10 ms and reports the peak during
 * the upload against the RSS just before it (after a small warm-up upload, so that lazily
 * loaded code is not counted as upload memory). The file is generated on disk first (never
 * held in memory), uploaded with a form from presignPost exactly as a device would post it,
 * and the stored object's MD5 is checked. Targets: >= 200 MB/s and <= 64 MB RSS growth.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { createStore } from "@fleetdrop/storage/config";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { generateFile } from "./generate-file";
import { processCpuSeconds } from "./proc-cpu";

const MIB = 1024 * 1024;
const ACCESS_KEY = "FLEETDROPBENCH";
const SECRET = "fleetdrop-bench-secret-0123456789";
const BUCKET = "bench";
const TARGET_MB_PER_S = 200;
const TARGET_RSS_GROWTH_MB = 64;

type TServeMessage = { type: "ready"; port: number } | { type: "stored"; size: number; etag: string };

function storeConfig(rootDir: string, publicUrl: string) {
  return { backend: "fs", bucket: BUCKET, rootDir, publicUrl, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET } as const;
}

// ---------------------------------------------------------------------------------------------
// Child: the endpoint under test

async function serve(rootDir: string): Promise<void> {
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
  const server = http.createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const store = createStore(storeConfig(rootDir, `http://127.0.0.1:${port}`));
  const endpoint = createFsEndpoint({
    stores: [store],
    onObjectStored: (event) => {
      process.send?.({ type: "stored", size: event.size, etag: event.etag } satisfies TServeMessage);
    },
  });
  handle = endpoint.handle;
  process.send?.({ type: "ready", port } satisfies TServeMessage);
  process.on("disconnect", () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Parent: generate, upload, measure

/** VmRSS of a process in bytes (Linux). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

type TUploadResult = {
  status: number;
  etag: string | undefined;
  seconds: number;
  peakRss: number;
  baselineRss: number;
  endpointCpuSeconds: number;
  clientCpuSeconds: number;
};

async function upload(
  child: ChildProcess,
  url: string,
  fields: Record<string, string>,
  file: string,
  size: number,
): Promise<TUploadResult> {
  const boundary = `----fleetdropbench${randomBytes(8).toString("hex")}`;
  let head = "";
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + size + Buffer.byteLength(tail);

  const pid = child.pid as number;
  const baselineRss = rssOf(pid);
  let peakRss = baselineRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(pid));
  }, 10);

  const endpointCpuBefore = processCpuSeconds(pid);
  const clientCpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(url, {
      method: "POST",
      headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": length },
    });
    req.on("response", resolve);
    req.on("error", reject);
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from(head);
      yield* createReadStream(file, { highWaterMark: MIB });
      yield Buffer.from(tail);
    }
    pipeline(Readable.from(body()), req).catch(reject);
  });
  response.resume();
  await new Promise((resolve) => response.once("end", resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssOf(pid));
  const clientCpu = process.cpuUsage(clientCpuBefore);
  return {
    status: response.statusCode ?? 0,
    etag: response.headers.etag,
    seconds,
    peakRss,
    baselineRss,
    endpointCpuSeconds: processCpuSeconds(pid) - endpointCpuBefore,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: "string" },
      "size-mib": { type: "string", default: "1024" },
      runs: { type: "string", default: "1" },
      /** Writes a V8 CPU profile of the endpoint process into this folder. */
      "profile-dir": { type: "string" },
    },
  });
  if (values.serve !== undefined) {
    await serve(values.serve);
    return;
  }
  const sizeMiB = Number(values["size-mib"]);
  const runs = Number(values.runs);
  const size = sizeMiB * MIB;
  const work = await mkdtemp(path.join(os.tmpdir(), "fleetdrop-bench-"));
  const rootDir = path.join(work, "data");
  const source = path.join(work, "upload.bin");
  let child: ChildProcess | undefined;
  try {
    const cpus = os.cpus();
    console.log(`machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`);
    console.log(`runtime: Node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}`);

    process.stdout.write(`generating ${sizeMiB} MiB in ${work} ... `);
    const t0 = Date.now();
    const md5 = await generateFile(source, sizeMiB, "md5");
    console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const profile = values["profile-dir"] === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${path.resolve(values["profile-dir"])}`];
    child = fork(fileURLToPath(import.meta.url), ["--serve", rootDir], {
      execArgv: [...process.execArgv, ...profile],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const messages: TServeMessage[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      child?.on("message", (message: TServeMessage) => {
        messages.push(message);
        if (message.type === "ready") resolve(message.port);
      });
      child?.once("exit", (code) => reject(new Error(`the endpoint process exited (${code})`)));
    });
    const store = createStore(storeConfig(rootDir, `http://127.0.0.1:${port}`));
    const form = (key: string) =>
      store.presignPost({ key, contentType: "application/octet-stream", maxBytes: 5 * 1024 * MIB, expiresIn: 3600 });

    // Warm-up: load and compile the upload path before the baseline is taken.
    const warmFile = path.join(work, "warm.bin");
    await generateFile(warmFile, 16);
    const warm = await form("bench/warm.bin");
    await upload(child, warm.url, warm.fields, warmFile, 16 * MIB);

    let failed = false;
    for (let run = 1; run <= runs; run++) {
      const post = await form(`bench/run-${run}.bin`);
      const result = await upload(child, post.url, post.fields, source, size);
      const mbPerSecond = size / 1e6 / result.seconds;
      const mibPerSecond = size / MIB / result.seconds;
      const growthMB = (result.peakRss - result.baselineRss) / 1e6;
      const etagOk = result.etag === `"${md5}"`;
      console.log(
        [
          `run ${run}: HTTP ${result.status} in ${result.seconds.toFixed(2)} s`,
          `  throughput: ${mbPerSecond.toFixed(0)} MB/s (${mibPerSecond.toFixed(0)} MiB/s)   ` +
            `target >= ${TARGET_MB_PER_S} MB/s: ${mbPerSecond >= TARGET_MB_PER_S ? "met" : "MISSED"}`,
          `  endpoint RSS: ${(result.baselineRss / 1e6).toFixed(1)} MB before, ${(result.peakRss / 1e6).toFixed(1)} MB peak, ` +
            `growth ${growthMB.toFixed(1)} MB   ` +
            `target <= ${TARGET_RSS_GROWTH_MB} MB: ${growthMB <= TARGET_RSS_GROWTH_MB ? "met" : "MISSED"}`,
          `  CPU: endpoint process ${result.endpointCpuSeconds.toFixed(2)} s, ` +
            `uploading client ${result.clientCpuSeconds.toFixed(2)} s (of ${result.seconds.toFixed(2)} s wall, ${os.cpus().length} cores)`,
          `  stored MD5 ${etagOk ? "matches" : "DIFFERS"} (${result.etag ?? "no ETag"})`,
        ].join("\n"),
      );
      if (result.status !== 204 || !etagOk) failed = true;
    }
    const storedEvents = messages.filter((message) => message.type === "stored").length;
    console.log(`onObjectStored calls: ${storedEvents} (warm-up included)`);
    if (failed) process.exitCode = 1;
  } finally {
    // SIGTERM would lose a CPU profile; closing the IPC channel makes the child exit cleanly.
    if (child?.connected) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.disconnect();
      await exited;
    }
    await rm(work, { recursive: true, force: true });
  }
}

await main();
