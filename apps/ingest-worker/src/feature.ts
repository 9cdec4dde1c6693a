/**
 * The one shape of a worker feature (uploads, multipart, named stores, file transfer, chunks,
 * presence, webhooks, retention, digests, device activity): what it answers, what it runs on a
 * timer, and what it starts and stops. worker.ts lists the features; `composeFeatures` turns the
 * list into the router's handlers and routes and starts and stops them all the same way.
 *
 * What must stay true:
 * - each JSON operation is answered by one feature: a second one registering it is an error at
 *   construction, not a silent override;
 * - features start in list order and stop in the reverse order, so a feature stops only after
 *   every feature listed after it (the ones that may use it) has stopped; the worker stops them
 *   only once the requests in flight are answered;
 * - a feature's jobs start before its start(); on stop, every feature's jobs stop together first
 *   (waiting for the runs in progress, so stopping takes the longest run, not their sum), and
 *   only then do the features stop, the last one first.
 */
import { startPeriodic, type TPeriodic, type TPeriodicOptions } from "./jobs/periodic";
import type { Logger } from "./logger";
import type { THandlers, TRawRoute } from "./router";

/** A job the worker runs every `intervalMs` while the feature runs (jobs/periodic.ts). */
export type TFeatureJob = TPeriodicOptions & {
  name: string;
  intervalMs: number;
  run(): Promise<unknown>;
};

/** A raw route and the request filter its topics are subscribed with. */
export type TFeatureRoute = {
  route: TRawRoute<unknown>;
  filter(sharedGroup: string | undefined): string;
};

export type TWorkerFeature = {
  readonly name: string;
  /** The JSON operations it answers. */
  readonly handlers?: THandlers;
  /** Its raw routes, tried in list order after the JSON operations. */
  readonly routes?: TFeatureRoute[];
  readonly jobs?: TFeatureJob[];
  start?(): void;
  stop?(): Promise<void>;
};

export type TFeatureSet = {
  handlers: THandlers;
  routes: TFeatureRoute[];
  start(): void;
  /** Stops what start() started, the last feature first. */
  stop(): Promise<void>;
};

export function composeFeatures(features: readonly TWorkerFeature[], log: Logger): TFeatureSet {
  const handlers: Record<string, unknown> = {};
  const owners = new Map<string, string>();
  for (const feature of features) {
    for (const [operation, handler] of Object.entries(feature.handlers ?? {})) {
      if (!handler) continue;
      const owner = owners.get(operation);
      if (owner) throw new Error(`${operation} is answered by two features: ${owner} and ${feature.name}`);
      owners.set(operation, feature.name);
      handlers[operation] = handler;
    }
  }
  let started: { feature: TWorkerFeature; jobs: TPeriodic[] }[] = [];
  return {
    handlers,
    routes: features.flatMap((feature) => feature.routes ?? []),
    start() {
      for (const feature of features) {
        const jobs = (feature.jobs ?? []).map((job) => startPeriodic(job.name, job.intervalMs, () => job.run(), log, job));
        started.push({ feature, jobs });
        feature.start?.();
      }
    },
    async stop() {
      const running = started.reverse();
      started = [];
      await Promise.all(running.flatMap(({ jobs }) => jobs.map((job) => job.stop())));
      for (const { feature } of running) await feature.stop?.();
    },
  };
}
