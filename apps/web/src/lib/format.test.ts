import { describe, expect, it } from "vitest";
import { jsonText } from "./format";

describe("jsonText", () => {
  it("gives strings as stored and other scalars as String does", () => {
    expect(jsonText("robots/a.bag")).toBe("robots/a.bag");
    expect(jsonText(42)).toBe("42");
    expect(jsonText(false)).toBe("false");
  });

  it("gives the fallback for a missing value", () => {
    expect(jsonText(undefined)).toBe("");
    expect(jsonText(null, "the report could not be read")).toBe("the report could not be read");
  });

  it("prints objects and arrays as JSON, never [object Object]", () => {
    expect(jsonText({ reason: "disk full" })).toBe('{"reason":"disk full"}');
    expect(jsonText(["a", 1])).toBe('["a",1]');
  });
});
