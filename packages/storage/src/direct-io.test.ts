import { describe, expect, it } from "vitest";
import { AlignedBufferPool, TieredBufferPool } from "./direct-io";

const LARGE = 256 * 1024;
const SMALL = 64 * 1024;

describe("TieredBufferPool", () => {
  it("hands out large buffers up to its cap, small ones beyond, and large ones again once some come back", () => {
    const pool = new TieredBufferPool(new AlignedBufferPool(LARGE, 2), new AlignedBufferPool(SMALL, 2), 2);
    const taken = [pool.take(), pool.take(), pool.take(), pool.take()];
    expect(taken.map((buffer) => buffer.length)).toEqual([LARGE, LARGE, SMALL, SMALL]);
    // Giving back a small buffer frees no large slot.
    pool.give(taken[2]!);
    expect(pool.take().length).toBe(SMALL);
    pool.give(taken[0]!);
    const again = pool.take();
    expect(again.length).toBe(LARGE);
    // The large buffer given back is reused, not a new allocation.
    expect(again).toBe(taken[0]);
    expect(pool.take().length).toBe(SMALL);
  });
});
