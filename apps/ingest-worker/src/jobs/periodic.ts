/** Runs a job every `intervalMs`, never overlapping itself; errors are logged, not thrown. */
import type { Logger } from "../logger";

export type TPeriodic = { stop(): Promise<void>; runNow(): Promise<void> };

export function startPeriodic(name: string, intervalMs: number, job: () => Promise<unknown>, log: Logger): TPeriodic {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = () => {
    if (running || stopped) return running ?? Promise.resolve();
    running = job()
      .then(() => {}, (error: unknown) => log.warn({ err: error, job: name }, `${name} failed; retrying next round`))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    runNow: run,
  };
}
