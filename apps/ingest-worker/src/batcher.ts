/**
 * Natural batching: the first item goes out at once; items arriving while batches are in
 * flight wait for a free slot and then go out together. Idle latency is one round trip, and
 * under load each round trip carries many items (group commit).
 */
export type TBatchRunner<I, O> = (items: I[]) => Promise<O[]>;

export class Batcher<I, O> {
  private queue: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  private running = 0;

  constructor(
    private readonly run: TBatchRunner<I, O>,
    private readonly options: {
      maxBatch: number;
      maxConcurrent: number;
      onBatch?: (size: number) => void;
      /** Called just before a batch's results are handed out (e.g. to coalesce the answers' writes). */
      beforeSettle?: () => void;
    },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.maxConcurrent && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.running++;
      this.options.onBatch?.(batch.length);
      // The next batch goes out before this one's results are handed out, so the database works
      // on it while the handlers sign and publish their answers instead of waiting for them. The
      // results are handed out on the next tick: node-pg's pool sends a query from a
      // process.nextTick callback, which must run first (ticks run in the order queued).
      const settled = () => {
        this.running--;
        this.pump();
      };
      this.run(batch.map((entry) => entry.item)).then(
        (results) => {
          settled();
          process.nextTick(() => {
            this.options.beforeSettle?.();
            batch.forEach((entry, index) => entry.resolve(results[index] as O));
          });
        },
        (error: unknown) => {
          settled();
          for (const entry of batch) entry.reject(error);
        },
      );
    }
  }
}
