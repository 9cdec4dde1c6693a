/** Runs a job every `intervalMs`, never overlapping itself; errors are logged, not thrown. */
import type { Logger } from "../logger";

export type TPeriodic = { stop(): Promise<void>; runNow(): Promise<void> };

export type TPeriodicOptions = {
  /** Run once at start, not only after the first interval. */
  immediate?: boolean;
  /**
   * After a failed run (a database outage), try again this soon rather than a whole interval
   * later, so the job runs right after the dependency is back. A streak of failures logs once.
   */
  retryMs?: number;
};

export function startPeriodic(
  name: string,
  intervalMs: number,
  job: () => Promise<unknown>,
  log: Logger,
  options: TPeriodicOptions = {},
): TPeriodic {
  let running: Promise<void> | null = null;
  let stopped = false;
  let failing = false;
  let retry: NodeJS.Timeout | null = null;
  const run = () => {
    if (running || stopped) return running ?? Promise.resolve();
    if (retry) clearTimeout(retry);
    retry = null;
    running = job()
      .then(
        () => {
          if (failing && options.retryMs !== undefined) log.info({ job: name }, `${name} runs again`);
          failing = false;
        },
        (error: unknown) => {
          if (options.retryMs === undefined || !failing)
            log.warn({ err: error, job: name }, `${name} failed; retrying ${options.retryMs === undefined ? "next round" : "soon"}`);
          failing = true;
          if (options.retryMs !== undefined && !stopped) {
            retry = setTimeout(() => void run(), options.retryMs);
            retry.unref();
          }
        },
      )
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  if (options.immediate) void run();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (retry) clearTimeout(retry);
      await running;
    },
    runNow: run,
  };
}
