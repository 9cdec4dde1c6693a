import { describe, expect, it } from "vitest";
import { createRateLimiter, DEFAULT_RATE_LIMITS, rateLimitClassOf, ZRateLimitsSchema } from "./rate-limit";

describe("per-device token buckets", () => {
  it("let a burst through, then refuse with the seconds until the next token, per device and class", () => {
    let clock = 0;
    const limiter = createRateLimiter({ ...DEFAULT_RATE_LIMITS, session: { burst: 3, perSecond: 0.5 } }, () => clock);
    expect([1, 2, 3].map(() => limiter.take("A", "sessionOpen"))).toEqual([0, 0, 0]);
    expect(limiter.take("A", "sessionClose")).toBe(2);
    // Another device, and another class of the same device, have buckets of their own.
    expect(limiter.take("B", "sessionOpen")).toBe(0);
    expect(limiter.take("A", "uploadRequest")).toBe(0);
    clock += 1000;
    expect(limiter.take("A", "sessionOpen")).toBe(1);
    clock += 1000;
    expect(limiter.take("A", "sessionOpen")).toBe(0);
    expect(limiter.take("A", "sessionOpen")).toBe(2);
  });

  it("forget buckets that are full again", () => {
    let clock = 0;
    const limiter = createRateLimiter(DEFAULT_RATE_LIMITS, () => clock);
    for (const device of ["A", "B", "C"]) limiter.take(device, "chunk");
    expect(limiter.size).toBe(3);
    clock += 120_000;
    limiter.take("D", "chunk");
    expect(limiter.size).toBe(1);
  });

  it("classify every operation by the operation table", () => {
    expect(
      (
        [
          "sessionOpen",
          "uploadComplete",
          "storeUpload",
          "downloadRequest",
          "transferInit",
          "transferSegment",
          "transferFin",
          "chunk",
        ] as const
      ).map(rateLimitClassOf),
    ).toEqual(["session", "upload", "upload", "download", "transfer", "segment", "transfer", "chunk"]);
  });

  it("read RATE_LIMITS as overrides of the defaults, or off", () => {
    expect(ZRateLimitsSchema.parse('{"session":{"burst":5,"per_second":0.2}}')).toEqual({
      ...DEFAULT_RATE_LIMITS,
      session: { burst: 5, perSecond: 0.2 },
    });
    expect(ZRateLimitsSchema.parse("off")).toBeNull();
    expect(ZRateLimitsSchema.safeParse('{"sessions":{"burst":5,"per_second":1}}').success).toBe(false);
    expect(ZRateLimitsSchema.safeParse('{"session":{"burst":0,"per_second":1}}').success).toBe(false);
    expect(ZRateLimitsSchema.safeParse("{").success).toBe(false);
  });
});
