import { describe, expect, it } from "vitest";

import { toAmzDate, toPolicyExpiration } from "./amz-date";

describe("SigV4 and policy timestamps", () => {
  it("format whole seconds in UTC, whichever second came before", () => {
    const dates = ["2025-01-12T10:30:00.999Z", "2025-01-12T10:30:01.000Z", "2025-01-12T10:30:00.001Z", "1999-12-31T23:59:59.500Z"];
    for (const text of [...dates, ...dates.reverse()]) {
      const iso = new Date(text).toISOString();
      const whole = iso.slice(0, 19);
      expect(toAmzDate(new Date(text))).toBe(`${whole.replaceAll("-", "").replaceAll(":", "")}Z`);
      expect(toPolicyExpiration(new Date(text))).toBe(`${whole}Z`);
    }
  });

  it("refuses an invalid date as Date#toISOString does", () => {
    expect(() => toAmzDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});
