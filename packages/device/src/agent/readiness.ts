/**
 * When a file is ready to send. `stableSeconds: N`: its size and modification time have not
 * changed for N seconds, by its mtime or by what the agent itself saw (a clock that jumped back
 * leaves mtimes in the future); `renamedFrom`: a writer that writes under a temporary name and
 * renames at the end; any file under a final name is ready at once, files under a temporary name
 * never are.
 */
import type { TReadiness } from "./config";
import { globToRegExp } from "./glob";

type TSeen = { size: number; mtimeMs: number; since: number };

export class ReadinessTracker {
  private readonly seen = new Map<string, TSeen>();
  private readonly temporary: RegExp[];

  constructor(private readonly readiness: TReadiness) {
    this.temporary = "renamedFrom" in readiness ? readiness.renamedFrom.map(globToRegExp) : [];
  }

  /** A name a writer is still writing under: never sent. */
  isTemporary(relative: string): boolean {
    return this.temporary.some((re) => re.test(relative));
  }

  /**
   * Records what a stat showed at `now`; answers `ready`, or `wait` with when to look again
   * (ms since the epoch), or `ignore` for a temporary name.
   */
  observe(
    file: string,
    relative: string,
    stat: { size: number; mtimeMs: number },
    now: number,
  ): { state: "ready" } | { state: "wait"; at: number } | { state: "ignore" } {
    if (this.isTemporary(relative)) return { state: "ignore" };
    if (!("stableSeconds" in this.readiness)) return { state: "ready" };
    const quiet = this.readiness.stableSeconds * 1000;
    const previous = this.seen.get(file);
    const same = previous !== undefined && previous.size === stat.size && previous.mtimeMs === stat.mtimeMs;
    const since = same ? previous.since : now;
    if (!same) this.seen.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, since });
    const readyAt = Math.min(since, stat.mtimeMs) + quiet;
    if (now >= readyAt) {
      this.seen.delete(file);
      return { state: "ready" };
    }
    return { state: "wait", at: readyAt };
  }

  forget(file: string): void {
    this.seen.delete(file);
  }

  get tracking(): number {
    return this.seen.size;
  }
}
