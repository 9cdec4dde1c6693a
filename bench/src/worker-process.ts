/**
 * The ingest worker as the file_transfer and chunk benchmarks run it: its production bundle in its own process,
 * with its resident memory sampled from /proc (current and peak between two marks).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@fleetdrop/test-broker";
import { WORKER_NODE_FLAGS } from "@fleetdrop/ingest-worker/runtime-flags";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");

export async function buildWorker(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, ["build.mjs"], { cwd: path.join(root, "apps/ingest-worker"), stdio: "inherit" });
    build.once("exit", (code) => (code === 0 ? resolve() : reject(new Error("worker build failed"))));
  });
}

/**
 * node's arguments for the worker's production bundle: the runtime flags it ships with, then
 * BENCH_WORKER_FLAGS (space-separated; a later V8 flag wins, so this can also undo a shipped one,
 * e.g. `--heap-growing-percent=0`) and, with BENCH_PROFILE=dir, a CPU profile written there.
 */
export function workerNodeArgs(): string[] {
  const extra = (process.env.BENCH_WORKER_FLAGS ?? "").split(/\s+/).filter((flag) => flag.length > 0);
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  return [...WORKER_NODE_FLAGS, ...extra, ...profile, path.join(root, "apps/ingest-worker/dist/index.js")];
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export type TWorkerProcess = {
  child: ChildProcess;
  httpPort: number;
  rss(): number;
  /** Starts recording the peak RSS (sampled every 20 ms) from now. */
  markMemory(): void;
  /** Peak RSS since markMemory(). */
  peakSinceMark(): number;
  stop(): Promise<void>;
};

export async function startWorkerProcess(env: Record<string, string>): Promise<TWorkerProcess> {
  const httpPort = await freePort();
  const child = spawn(process.execPath, workerNodeArgs(), {
    // The benchmarks measure the worker's ceiling, one device at full speed included: per-device
    // rate limits (meant for fleets, not for a load generator) would cap that.
    env: {
      ...process.env,
      HTTP_PORT: String(httpPort),
      HTTP_HOST: "127.0.0.1",
      FS_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
      LOG_LEVEL: "warn",
      RATE_LIMITS: "off",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${output.slice(-2000)}`);
    if (
      await fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
    if (i > 300) {
      child.kill("SIGKILL");
      throw new Error(`worker did not become ready:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.exitCode === null) peak = Math.max(peak, rssOf(child.pid!));
  }, 20);
  sampler.unref();
  return {
    child,
    httpPort,
    rss: () => rssOf(child.pid!),
    markMemory: () => {
      peak = rssOf(child.pid!);
    },
    peakSinceMark: () => Math.max(peak, rssOf(child.pid!)),
    async stop() {
      clearInterval(sampler);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      if (output.includes('"level":"error"'))
        console.error(
          `worker errors:\n${output
            .split("\n")
            .filter((line) => line.includes('"level":"error"'))
            .slice(0, 5)
            .join("\n")}`,
        );
    },
  };
}
