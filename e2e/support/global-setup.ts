/**
 * One database, one store folder and one built app for the whole e2e run. Returns the
 * teardown. Tests read what they need from FLEETDROP_E2E_* variables (set here, inherited by
 * the workers).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPrismaClient } from "@fleetdrop/db";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { buildApp, startApp } from "./app-server";
import { startPlatform } from "./platform";
import { openSessionsStore } from "./store";
import { seedWorld } from "./world";

export default async function globalSetup() {
  const database = await createTestDatabase("e2e");
  const storeDir = await mkdtemp(path.join(tmpdir(), "fleetdrop-e2e-store-"));
  const prisma = createPrismaClient({ databaseUrl: database.url });
  const world = await seedWorld(prisma, openSessionsStore({ dir: storeDir, bucket: "fleetdrop" }));
  await prisma.$disconnect();

  // Real Mosquitto and the real ingest worker: devices in the tests use the device SDK.
  const platform = await startPlatform({ databaseUrl: database.url, storeDir });
  const env = {
    databaseUrl: database.url,
    storeDir,
    extra: {
      MQTT_URL: platform.mqttUrl,
      FS_PUBLIC_URL: platform.workerUrl,
      // Device provisioning: certificate devices need the CA key seal and a mutual-TLS listener to point at.
      DEVICE_CA_ENCRYPTION_KEY: "ZTJlLWRldmljZS1jYS1rZXktMzItYnl0ZXMtbG9uZyE=",
      BROKER_CERTIFICATE_URL: "mqtts://mqtt.e2e.test:8883",
      BROKER_PASSWORD_URL: "mqtts://mqtt.e2e.test:8884",
      // The webhook tests' receiver listens on 127.0.0.1.
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: "true",
    },
  };
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    await buildApp(env);
    app = await startApp(env);
  } catch (error) {
    // Playwright runs no teardown when the setup fails: do not leave the broker and worker behind.
    await platform.stop();
    throw error;
  }

  process.env.FLEETDROP_E2E_BASE_URL = app.baseUrl;
  process.env.FLEETDROP_E2E_DATABASE_URL = database.url;
  process.env.FLEETDROP_E2E_STORE_DIR = storeDir;
  process.env.FLEETDROP_E2E_MQTT_URL = platform.mqttUrl;
  process.env.FLEETDROP_E2E_WORKER_URL = platform.workerUrl;
  process.env.FLEETDROP_E2E_WORLD = JSON.stringify(world);

  return async () => {
    await app.stop();
    await platform.stop();
    await database.drop();
    await rm(storeDir, { recursive: true, force: true });
  };
}
