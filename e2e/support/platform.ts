/**
 * The device side of the platform for the e2e suite: a real Mosquitto and the real ingest
 * worker, started as production starts it (its own process, configured by environment), with
 * the fs store (sessions and the named stores) in the same folder as the dashboard's, served
 * by the worker's upload/download endpoint. Devices in the tests use the real device SDK
 * against them, so an upload really travels request → presigned form → fs store → completion.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort, startMosquitto } from "@fleetdrop/test-broker";
import { E2E_FS_SECRET, E2E_WEBHOOK_SECRET_KEY } from "./store";

export type TPlatform = { mqttUrl: string; workerUrl: string; stop(): Promise<void> };

const WORKER_ENTRY = path.resolve(import.meta.dirname, "../../apps/ingest-worker/src/index.ts");
const TSX = path.resolve(import.meta.dirname, "../node_modules/.bin/tsx");

export async function startPlatform(options: { databaseUrl: string; storeDir: string; bucket?: string }): Promise<TPlatform> {
  const broker = await startMosquitto();
  const port = await freePort();
  const workerUrl = `http://127.0.0.1:${port}`;
  let output = "";
  const worker: ChildProcess = spawn(TSX, [WORKER_ENTRY], {
    cwd: path.dirname(WORKER_ENTRY),
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      DB_POOL_SIZE: "4",
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: "fleetdrop-ingest:e2e",
      TOPIC_PREFIX: "fleetdrop",
      STORAGE_BACKEND: "fs",
      FS_STORE_DIR: options.storeDir,
      FS_BUCKET: options.bucket ?? "fleetdrop",
      FS_PUBLIC_URL: workerUrl,
      FS_SECRET_ACCESS_KEY: E2E_FS_SECRET,
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
      LOG_LEVEL: process.env.E2E_WORKER_LOG_LEVEL ?? "warn",
      // The webhook tests' receiver listens on 127.0.0.1; retries and retention runs come quickly.
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: "true",
      WEBHOOK_SECRET_KEY: E2E_WEBHOOK_SECRET_KEY,
      WEBHOOK_BACKOFF_BASE_MS: "200",
      WEBHOOK_BACKOFF_MAX_MS: "1000",
      RETENTION_INTERVAL_SECONDS: "2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [worker.stdout!, worker.stderr!]) {
    stream.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.E2E_WORKER_LOG_LEVEL) process.stderr.write(chunk);
    });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (worker.exitCode !== null) throw new Error(`the ingest worker exited with ${worker.exitCode}:\n${output}`);
    const ready = await fetch(`${workerUrl}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`the ingest worker did not become ready within 60 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    mqttUrl: broker.url,
    workerUrl,
    async stop() {
      if (worker.exitCode === null) {
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.kill("SIGTERM");
        const timer = setTimeout(() => worker.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await broker.stop();
      await broker.cleanup();
    },
  };
}
