/**
 * An ingest worker in a child process, so a test can kill it the hard way (SIGKILL: no drain,
 * no DISCONNECT, unacknowledged requests left at the broker). Config comes as JSON in the env;
 * the parent asks for the number of requests handled over IPC. With FD_WORKER_FS_ENDPOINT the
 * worker serves the fs store's upload endpoint too (a kill can then cut an upload short).
 */
import { createStore } from "@fleetdrop/storage/config";
import { FsStore } from "@fleetdrop/storage/fs";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import pino from "pino";
import { createIngestWorker, type TIngestWorkerConfig } from "../../src/worker";

const config = JSON.parse(process.env.FD_WORKER_CONFIG!) as TIngestWorkerConfig;
const store = createStore(JSON.parse(process.env.FD_WORKER_STORE!));
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const worker = createIngestWorker({
  config,
  logger,
  store,
  httpRoutes:
    process.env.FD_WORKER_FS_ENDPOINT && store instanceof FsStore
      ? (onObjectStored) => createFsEndpoint({ stores: [store], onObjectStored, logger }).handle
      : undefined,
});

async function handled(): Promise<number> {
  const metric = await worker.metrics.requests.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

process.on("message", (message: { type: string }) => {
  if (message.type === "count") void handled().then((value) => process.send!({ type: "count", value }));
  if (message.type === "stop") void worker.stop().then(() => process.exit(0));
});

await worker.start();
process.send!({ type: "ready" });
