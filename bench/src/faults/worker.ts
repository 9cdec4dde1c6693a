/**
 * The ingest worker's production bundle in a child process that the suite can kill the hard way
 * (SIGKILL: no drain, no DISCONNECT, unacknowledged requests left at the broker) and start again
 * with the same environment, as a supervisor would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { parseWorkerEnv } from "@fleetdrop/ingest-worker/env";
import { workerNodeArgs } from "../worker-process";

export type TSuiteWorker = {
  /** The MQTT client id the worker connects with, as its own env module derives it. */
  clientId: string;
  httpPort: number;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  /** Healthy: connected to the broker and subscribed, and the database answers. */
  healthy(): Promise<boolean>;
  /** Disconnects from the broker the worker did not ask for, from its /metrics (null: no answer). */
  disconnects(): Promise<number | null>;
  /** Error lines the worker logged since it was created. */
  errors(): string[];
};

export function createSuiteWorker(env: Record<string, string>, httpPort: number): TSuiteWorker {
  const clientId = parseWorkerEnv(env).MQTT_CLIENT_ID;
  let child: ChildProcess | null = null;
  let output = "";
  const errorLines: string[] = [];
  const healthy = () =>
    fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
  const exited = (running: ChildProcess) =>
    running.exitCode !== null || running.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => running.once("exit", () => resolve()));

  return {
    clientId,
    httpPort,
    healthy,
    async disconnects() {
      const text = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.text(),
        () => null,
      );
      if (text === null) return null;
      return [...text.matchAll(/^fleetdrop_broker_disconnects_total(?:\{[^}]*\})? (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    },
    errors: () => errorLines,
    async start() {
      output = "";
      const running = spawn(process.execPath, workerNodeArgs(), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      child = running;
      let partial = "";
      const collect = (chunk: Buffer) => {
        const text = chunk.toString();
        output = (output + text).slice(-20_000);
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line.includes('"level":50') || line.includes('"level":"error"')) errorLines.push(line);
      };
      running.stdout.on("data", collect);
      running.stderr.on("data", collect);
      for (let i = 0; ; i++) {
        if (running.exitCode !== null) throw new Error(`worker exited (${running.exitCode}):\n${output.slice(-2000)}`);
        if (await healthy()) return;
        if (i > 600) {
          running.kill("SIGKILL");
          throw new Error(`worker did not become healthy within 60 s:\n${output.slice(-2000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async kill() {
      const running = child;
      child = null;
      if (!running) return;
      running.kill("SIGKILL");
      await exited(running);
    },
    async stop() {
      const running = child;
      child = null;
      if (!running) return;
      running.kill("SIGTERM");
      const timer = setTimeout(() => running.kill("SIGKILL"), 15_000);
      await exited(running);
      clearTimeout(timer);
    },
  };
}
