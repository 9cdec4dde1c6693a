import { describe, expect, it } from "vitest";
import { RateLimiter, type TRateClock } from "./rate-limiter";

/** A clock that only moves when the limiter sleeps: the time it asked to wait is counted, not measured. */
function virtualClock(): TRateClock & { elapsed(): number; sleeps: number } {
  let now = 0;
  let sleeps = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      sleeps++;
      now += ms;
    },
    elapsed: () => now,
    get sleeps() {
      return sleeps;
    },
  };
}

describe("RateLimiter (--max-rate)", () => {
  it("lets bytes through at the rate asked for, after a burst of a quarter second", async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(1024 * 1024, clock);
    for (let i = 0; i < 160; i++) await limiter.take(64 * 1024); // 10 MiB in 64 KiB chunks
    // 10 MiB at 1 MiB/s, less the 0.25 s burst: 9.75 s of waiting, give or take a millisecond per wait.
    expect(clock.elapsed()).toBeGreaterThanOrEqual(9750);
    expect(clock.elapsed()).toBeLessThanOrEqual(9750 + clock.sleeps);
  });

  it("shares the rate between parallel takers instead of giving each the whole of it", async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(2 * 1024 * 1024, clock);
    const part = async () => {
      for (let i = 0; i < 64; i++) await limiter.take(64 * 1024); // 4 MiB each
    };
    await Promise.all([part(), part(), part(), part()]); // 16 MiB at 2 MiB/s
    expect(clock.elapsed()).toBeGreaterThanOrEqual(7750);
    expect(clock.elapsed()).toBeLessThanOrEqual(7750 + clock.sleeps);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new RateLimiter(0)).toThrow(/maxRate/);
  });
});
