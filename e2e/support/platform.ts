/**
 * The device side of the platform for the e2e suite: a real Mosquitto and the real ingest
 * worker (in this process), with the fs store (sessions and the §4 named stores) in the same
 * folder as the dashboard's, served by the worker's upload/download endpoint. Devices in the
 * tests use the real device SDK against them, so an upload really travels request → presigned
 * form → fs store → completion.
 */
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { createStore } from "@fleetdrop/storage/config";
import type { FsStore } from "@fleetdrop/storage/fs";
import { createNamedStores } from "@fleetdrop/storage/named-stores";
import { createIngestWorker } from "@fleetdrop/ingest-worker/worker";
import { createLogger } from "@fleetdrop/ingest-worker/logger";
import { freePort, startMosquitto } from "@fleetdrop/test-broker";
import { E2E_FS_SECRET } from "./store";

export type TPlatform = { mqttUrl: string; workerUrl: string; stop(): Promise<void> };

export async function startPlatform(options: { databaseUrl: string; storeDir: string; bucket?: string }): Promise<TPlatform> {
  const broker = await startMosquitto();
  const port = await freePort();
  const workerUrl = `http://127.0.0.1:${port}`;
  const bucket = options.bucket ?? "fleetdrop";
  const fs = { rootDir: options.storeDir, publicUrl: workerUrl, accessKeyId: "fleetdrop", secretAccessKey: E2E_FS_SECRET };
  const store = createStore({ backend: "fs", bucket, ...fs });
  const namedStores = createNamedStores(undefined, { backend: "fs", bucket, region: "us-east-1", fs });
  const logger = createLogger(process.env.E2E_WORKER_LOG_LEVEL ?? "warn", "e2e-worker");
  const worker = createIngestWorker({
    config: {
      databaseUrl: options.databaseUrl,
      dbPoolSize: 4,
      mqtt: { url: broker.url, clientId: "fleetdrop-ingest-e2e", protocolVersion: 5, sessionExpirySeconds: 600, receiveMaximum: 100 },
      topicPrefix: "fleetdrop",
      maxUploadMb: 100,
      uploadExpiresInSeconds: 3600,
      http: { host: "127.0.0.1", port },
      sweepIntervalMs: 60_000,
    },
    logger,
    store,
    namedStores,
    httpRoutes: (onObjectStored) => createFsEndpoint({ stores: [store, ...[...namedStores.values()].map((entry) => entry.store as FsStore)], onObjectStored, logger }).handle,
  });
  await worker.start();
  return {
    mqttUrl: broker.url,
    workerUrl,
    async stop() {
      await worker.stop();
      await broker.stop();
      await broker.cleanup();
    },
  };
}
