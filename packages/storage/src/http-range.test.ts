import { describe, expect, it } from "vitest";

import { parseRangeHeader } from "./http-range";

describe("parseRangeHeader", () => {
  it("parses single ranges against the size", () => {
    expect(parseRangeHeader("bytes=0-4", 10)).toEqual({ start: 0, end: 4 });
    expect(parseRangeHeader("bytes=5-", 10)).toEqual({ start: 5, end: 9 });
    expect(parseRangeHeader("bytes=8-100", 10)).toEqual({ start: 8, end: 9 });
    expect(parseRangeHeader("bytes=-3", 10)).toEqual({ start: 7, end: 9 });
    expect(parseRangeHeader("bytes=-30", 10)).toEqual({ start: 0, end: 9 });
  });

  it("answers unsatisfiable ranges", () => {
    expect(parseRangeHeader("bytes=10-", 10)).toBe("unsatisfiable");
    expect(parseRangeHeader("bytes=10-20", 10)).toBe("unsatisfiable");
    expect(parseRangeHeader("bytes=-0", 10)).toBe("unsatisfiable");
    expect(parseRangeHeader("bytes=0-", 0)).toBe("unsatisfiable");
  });

  it("ignores what it does not serve (whole object)", () => {
    expect(parseRangeHeader(undefined, 10)).toBeNull();
    expect(parseRangeHeader("bytes=0-1,3-4", 10)).toBeNull();
    expect(parseRangeHeader("items=0-1", 10)).toBeNull();
    expect(parseRangeHeader("bytes=5-2", 10)).toBeNull();
  });
});
