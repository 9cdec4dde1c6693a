/**
 * The five faults. Each one injects its failure into a running environment and returns once the
 * platform has been given its way back (the failed part restarted or reachable again and the
 * worker healthy), with notes worth printing beside the counts.
 */
import mqtt from "mqtt";
import type { TFaultEnvironment } from "./environment";

export type TFaultContext = {
  /** How long an outage lasts (fault b, d, e). */
  outageMs: number;
  /** The client id fault (e) connects with. */
  intruderClientId: string;
};

/** What a fault reports: notes to print, and targets of its own it missed. */
export type TInjected = { notes: string[]; missed?: string[] };

export type TFault = {
  name: string;
  title: string;
  inject(env: TFaultEnvironment, context: TFaultContext): Promise<TInjected>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the worker is healthy again (broker connected and subscribed, database up). */
async function workerRecovered(env: TFaultEnvironment, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  while (!(await env.worker.healthy())) {
    if (Date.now() - started > timeoutMs) throw new Error(`the worker was not healthy ${timeoutMs / 1000} s after the fault`);
    await sleep(100);
  }
  return Date.now() - started;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Waits (at most 10 s) until at least `count` uploads are in progress: the fault then cuts them. */
async function uploadsInProgress(env: TFaultEnvironment, count: number): Promise<string> {
  const started = Date.now();
  while (env.storageProxy.openConnections() < count && Date.now() - started < 10_000) await sleep(5);
  return `${env.storageProxy.openConnections()} uploads in progress when it hit`;
}

export const FAULTS: TFault[] = [
  {
    name: "worker-kill",
    title: "(a) kill -9 the worker, start it again",
    async inject(env) {
      const inProgress = await uploadsInProgress(env, 3);
      await env.worker.kill();
      const started = Date.now();
      await env.worker.start();
      return { notes: [inProgress, `worker back in ${seconds(Date.now() - started)}`] };
    },
  },
  {
    name: "postgres-restart",
    title: "(b) stop PostgreSQL, start it again",
    async inject(env, { outageMs }) {
      await env.postgres.stop();
      await sleep(outageMs);
      await env.postgres.start();
      return { notes: [`database down ${seconds(outageMs)}`, `worker healthy ${seconds(await workerRecovered(env))} after`] };
    },
  },
  {
    name: "broker-restart",
    title: "(c) restart the broker",
    async inject(env) {
      const started = Date.now();
      await env.broker.mosquitto.stop();
      await env.broker.mosquitto.start();
      const restart = Date.now() - started;
      return { notes: [`broker restarted in ${seconds(restart)}`, `worker healthy ${seconds(await workerRecovered(env))} after`] };
    },
  },
  {
    name: "storage-outage",
    title: "(d) storage unreachable",
    async inject(env, { outageMs }) {
      const inProgress = await uploadsInProgress(env, 3);
      await env.storageProxy.down();
      await sleep(outageMs);
      await env.storageProxy.up();
      return { notes: [inProgress, `storage unreachable ${seconds(outageMs)}`] };
    },
  },
  {
    name: "client-id-takeover",
    title: "(e) a device holding the worker's client id",
    async inject(env, { outageMs, intruderClientId }) {
      let connects = 0;
      let refusals = 0;
      let delivered = 0;
      // An enrolled device, authenticated as itself, asking for the worker's client id and its
      // session (clean start off), and reconnecting at once whenever it is pushed off.
      const intruder = mqtt.connect(env.deviceUrl, {
        clientId: intruderClientId,
        username: env.intruder.serial,
        password: env.intruder.password,
        ca: env.broker.caPem,
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 7 * 24 * 3600 },
        reconnectPeriod: 200,
        connectTimeout: 5000,
      });
      intruder.on("connect", () => connects++);
      intruder.on("error", () => refusals++);
      intruder.on("message", () => delivered++);
      const disconnectsBefore = await env.worker.disconnects();
      await sleep(outageMs);
      await intruder.endAsync(true).catch(() => {});
      const pushedOff = ((await env.worker.disconnects()) ?? Number.NaN) - (disconnectsBefore ?? Number.NaN);
      return {
        notes: [
          `client id ${JSON.stringify(intruderClientId)} asked for ${seconds(outageMs)}: ` +
            `${connects} connects accepted (as the device itself), ` +
            `${refusals} refused, ` +
            `${delivered} messages delivered to it; the worker was pushed off ${pushedOff} times`,
          `worker healthy ${seconds(await workerRecovered(env))} after`,
        ],
        // A broker binds the client id to the identity: the device gets its own session, never the
        // worker's, so the worker is never pushed off and the intruder receives none of its requests.
        missed: [
          ...(pushedOff !== 0
            ? [`the worker was pushed off its session ${Number.isNaN(pushedOff) ? "(unknown: no /metrics)" : `${pushedOff} times`}`]
            : []),
          ...(delivered > 0 ? [`${delivered} requests delivered to the intruder`] : []),
        ],
      };
    },
  },
];
