import { describe, expect, it } from "vitest";
import { backoffMs, parseRetryAfter } from "./delivery";

describe("chunk delivery timing", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-23T10:00:00.000Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Mon, 23 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Mon, 23 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
  });

  it("backs off exponentially with jitter, up to the maximum", () => {
    const settings = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
    expect(backoffMs(1, settings, 0.5)).toBe(1000);
    expect(backoffMs(2, settings, 0.5)).toBe(2000);
    expect(backoffMs(5, settings, 0.5)).toBe(16_000);
    expect(backoffMs(30, settings, 0.5)).toBe(60_000);
    expect(backoffMs(1, settings, 0)).toBe(800);
    expect(backoffMs(1, settings, 1)).toBe(1200);
  });
});
