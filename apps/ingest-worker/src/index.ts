/**
 * The ingest worker process: validate the environment, build the worker, start it, and stop it
 * cleanly on SIGTERM/SIGINT (a second signal forces the exit).
 */
import { DEFAULT_MQTT_URL } from "@fleetdrop/shared/mqtt-env";
import { createStore, StoreConfigError } from "@fleetdrop/storage/config";
import { fsStoresOf } from "@fleetdrop/storage/named-stores";
import { FsStore } from "@fleetdrop/storage/fs";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { sessionStoreConfigFromEnv } from "@fleetdrop/storage/env";
import { fsEndpointLimitsFromEnv, workerConfigFromEnv } from "./config";
import { EnvError, parseWorkerEnv } from "./env";
import { createLogger } from "./logger";
import { namedStoresFromEnv } from "./stores/named-stores";
import { createIngestWorker } from "./worker";

async function main() {
  let env;
  try {
    env = parseWorkerEnv(process.env);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(env.LOG_LEVEL);
  const store = createStore(sessionStoreConfigFromEnv(env));
  let namedStores;
  try {
    namedStores = namedStoresFromEnv(env);
  } catch (error) {
    if (error instanceof StoreConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const endpointStores = [store, ...fsStoresOf(namedStores.values())].filter(
    (candidate): candidate is FsStore => candidate instanceof FsStore,
  );
  const worker = createIngestWorker({
    config: workerConfigFromEnv(env),
    logger,
    store,
    namedStores,
    httpRoutes:
      endpointStores.length > 0
        ? (onObjectStored, admitUpload, admitPart) =>
            createFsEndpoint({ stores: endpointStores, onObjectStored, admitUpload, admitPart, logger, ...fsEndpointLimitsFromEnv(env) })
              .handle
        : undefined,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  logger.info(
    { mqtt: env.MQTT_URL ?? DEFAULT_MQTT_URL, prefix: env.TOPIC_PREFIX, storage: env.STORAGE_BACKEND, sharedGroup: env.MQTT_SHARED_GROUP },
    "starting",
  );
  await worker.start();
  logger.info("ready");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
