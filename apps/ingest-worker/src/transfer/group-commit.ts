/**
 * Group commit for payload-carrying messages (file segments, chunks): the first item is written
 * at once; items arriving while writes are in flight wait for a free slot and then go out
 * together in one statement and one commit, up to `maxItems` or `maxBytes`. Each submitter's
 * promise settles when its item is durable (or the write failed), so "acknowledged ⇒ durable"
 * holds item by item while a fast stream costs one fsync per batch, not per message.
 *
 * Unlike src/batcher.ts this one weighs items by their bytes (a batch of 256 KiB segments must
 * stay small in memory) and lets a caller keep batches in submission order (`maxConcurrent: 1`).
 */
export type TGroupWriter<I, O> = (items: I[]) => Promise<O[]>;

export type TGroupCommitOptions<I> = {
  maxItems: number;
  maxBytes: number;
  /** Batches in flight at once; 1 keeps batches in submission order. */
  maxConcurrent: number;
  weigh(item: I): number;
  onBatch?(items: number, bytes: number, seconds: number): void;
};

type TEntry<I, O> = { item: I; bytes: number; resolve: (value: O) => void; reject: (error: unknown) => void };

export class GroupCommit<I, O> {
  private queue: TEntry<I, O>[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: TGroupWriter<I, O>,
    private readonly options: TGroupCommitOptions<I>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, bytes: this.options.weigh(item), resolve, reject });
      this.pump();
    });
  }

  /** Items waiting or being written. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private take(): TEntry<I, O>[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.options.maxItems) {
      const next = this.queue[count]!.bytes;
      if (count > 0 && bytes + next > this.options.maxBytes) break;
      bytes += next;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private pump(): void {
    while (this.running < this.options.maxConcurrent && this.queue.length > 0) {
      const batch = this.take();
      this.running++;
      const started = performance.now();
      this.write(batch.map((entry) => entry.item))
        .then(
          (results) => {
            if (results.length !== batch.length)
              throw new Error(`group writer returned ${results.length} results for ${batch.length} items`);
            batch.forEach((entry, index) => entry.resolve(results[index] as O));
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .catch((error: unknown) => {
          for (const entry of batch) entry.reject(error);
        })
        .finally(() => {
          this.options.onBatch?.(
            batch.length,
            batch.reduce((sum, entry) => sum + entry.bytes, 0),
            (performance.now() - started) / 1000,
          );
          this.running--;
          this.pump();
          if (this.queue.length === 0 && this.running === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }
}
