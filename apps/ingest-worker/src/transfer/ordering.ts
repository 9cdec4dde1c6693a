/**
 * Keeps one device's transfer messages in the order this worker received them, while segments
 * of a transfer are stored concurrently (group commit): a command (init, fin, status, abort)
 * waits for everything of its transfer received before it, and a segment waits for the command
 * received before it. So a `fin` published right after the last segment sees that segment, and
 * a segment published right after `init` finds its transfer.
 *
 * Scope is one worker: with a shared subscription spreading one transfer over several workers,
 * a `fin` may overtake a segment still being stored elsewhere; it then answers 409 `incomplete`
 * with the missing ranges and the device re-sends them (harmless: segments are idempotent).
 */
type TLane = { command: Promise<unknown> | null; segments: Set<Promise<unknown>> };

export class TransferOrdering {
  private readonly lanes = new Map<string, TLane>();

  private lane(key: string): TLane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { command: null, segments: new Set() };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private forget(key: string, lane: TLane): void {
    if (lane.command === null && lane.segments.size === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }

  /** Runs a segment's work after the command received before it. */
  segment<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lane = this.lane(key);
    const before = lane.command;
    const run: Promise<T> = (before ? before.then(work, work) : work()).finally(() => {
      lane.segments.delete(run);
      this.forget(key, lane);
    });
    lane.segments.add(run);
    return run;
  }

  /** Runs a command's work after everything of its transfer received before it. */
  command<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lane = this.lane(key);
    const before = [...lane.segments, ...(lane.command ? [lane.command] : [])];
    const run: Promise<T> = (before.length > 0 ? Promise.allSettled(before).then(work) : work()).finally(() => {
      if (lane.command === run) lane.command = null;
      this.forget(key, lane);
    });
    lane.command = run;
    return run;
  }

  /** Transfers with work in progress (for tests and metrics). */
  get size(): number {
    return this.lanes.size;
  }
}
