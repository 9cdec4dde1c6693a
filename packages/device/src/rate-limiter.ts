/** The one bandwidth cap of the device side: --max-rate, and the agent's max_bytes_per_second. */
export type TRateClock = { now(): number; sleep(ms: number): Promise<void> };
export const realClock: TRateClock = { now: () => performance.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/**
 * A token bucket of bytes shared by everything one cap covers (the parts of a multipart upload,
 * or all of a device agent's uploads): `take(n)` resolves when `n` more bytes may go out, takers
 * served in order. The bucket holds `burstBytes` (default a quarter second's worth, at least
 * 64 KiB), so the cap is kept over any stretch longer than that.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly capacity: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly clock: TRateClock = realClock,
    burstBytes = Math.max(64 * 1024, bytesPerSecond / 4),
  ) {
    if (!(bytesPerSecond > 0)) throw new Error("maxRate must be a positive number of bytes per second");
    this.capacity = burstBytes;
    this.tokens = this.capacity;
    this.last = clock.now();
  }

  take(bytes: number): Promise<void> {
    // One taker at a time, in order: parallel parts share the rate fairly by chunk.
    const turn = this.queue.then(async () => {
      let need = bytes;
      while (need > 0) {
        const now = this.clock.now();
        this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
        this.last = now;
        const used = Math.min(need, this.tokens);
        this.tokens -= used;
        need -= used;
        if (need > 0) await this.clock.sleep(Math.ceil((Math.min(need, this.capacity) / this.bytesPerSecond) * 1000));
      }
    });
    this.queue = turn;
    return turn;
  }
}
