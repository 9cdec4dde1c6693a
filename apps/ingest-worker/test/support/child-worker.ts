/**
 * An ingest worker in a child process (support/worker-process.ts), so that a test can SIGKILL
 * it, and the number of requests it has handled, asked over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TStoreConfigInput } from "@fleetdrop/storage/config";
import type { TIngestWorkerConfig } from "../../src/worker";

const WORKER_PROCESS = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

/**
 * Resolves once the worker is ready; rejects when it exits or fails first. `fsEndpoint`: it
 * serves the fs store's upload endpoint too (a kill can then cut an upload short).
 */
export function forkWorker(config: TIngestWorkerConfig, store: TStoreConfigInput, options: { fsEndpoint?: boolean } = {}) {
  const child = fork(WORKER_PROCESS, [], {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      FD_WORKER_CONFIG: JSON.stringify(config),
      FD_WORKER_STORE: JSON.stringify(store),
      ...(options.fsEndpoint ? { FD_WORKER_FS_ENDPOINT: "1" } : {}),
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    child.once("message", (message: { type: string }) => (message.type === "ready" ? resolve(child) : reject(new Error(message.type))));
    child.once("exit", (code) => reject(new Error(`worker process exited with ${code}`)));
  });
}

/** The requests the worker in `child` has handled so far. */
export function childHandled(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string; value: number }) => {
      if (message.type !== "count") return;
      child.off("message", onMessage);
      resolve(message.value);
    };
    child.on("message", onMessage);
    child.send({ type: "count" });
  });
}
