/**
 * Builds and starts the real dashboard (`next build` + `next start`) on a free port against a
 * given database and store folder. Used by the e2e suite's global setup and by the benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { freePort } from "@fleetdrop/test-broker";
import { E2E_FS_SECRET, E2E_WEBHOOK_SECRET_KEY } from "./store";

const WEB_DIR = path.resolve(import.meta.dirname, "../../apps/web");
const NEXT_BIN = path.join(WEB_DIR, "node_modules/next/dist/bin/next");

export type TAppEnv = { databaseUrl: string; storeDir: string; bucket?: string; extra?: Record<string, string> };

function appEnv(env: TAppEnv, baseUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: env.databaseUrl,
    NEXTAUTH_URL: baseUrl,
    NEXTAUTH_SECRET: "e2e-secret-e2e-secret-e2e-secret",
    WEBHOOK_SECRET_KEY: E2E_WEBHOOK_SECRET_KEY,
    STORAGE_BACKEND: "fs",
    FS_STORE_DIR: env.storeDir,
    FS_BUCKET: env.bucket ?? "fleetdrop",
    FS_SECRET_ACCESS_KEY: E2E_FS_SECRET,
    ...env.extra,
  };
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NEXT_BIN, ...args], { cwd: WEB_DIR, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next ${args[0]} exited with ${code}`))));
  });
}

/** `next build`, unless FLEETDROP_REUSE_BUILD=1 and a build exists (local iteration only). */
export async function buildApp(env: TAppEnv): Promise<void> {
  if (process.env.FLEETDROP_REUSE_BUILD === "1" && existsSync(path.join(WEB_DIR, ".next/BUILD_ID"))) return;
  await run(["build"], appEnv(env, "http://127.0.0.1:3000"));
}

export type TRunningApp = { baseUrl: string; port: number; stop(): Promise<void> };

export async function startApp(env: TAppEnv): Promise<TRunningApp> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: WEB_DIR,
    env: appEnv(env, baseUrl),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => {
    output += d;
    process.stderr.write(d);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/sign-in`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`next start did not answer within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}
