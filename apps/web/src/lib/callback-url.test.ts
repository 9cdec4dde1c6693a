import { describe, expect, it } from "vitest";
import { DEFAULT_CALLBACK_PATH, safeCallbackPath } from "./callback-url";
import { HOSTILE_CALLBACKS } from "./callback-url-cases";

const KEPT_CALLBACKS: [query: string, path: string][] = [
  ["/", "/"],
  ["/account", "/account"],
  ["%2Fp%2Fdemo%2Fsessions%3Fq%3Da%2520b", "/p/demo/sessions?q=a%20b"],
  ["/p/demo/sessions/7#files", "/p/demo/sessions/7#files"],
  ["/p/demo/sessions/./7", "/p/demo/sessions/7"],
];

const fromQuery = (encoded: string) => new URLSearchParams(`callbackUrl=${encoded}`).get("callbackUrl");

describe("safeCallbackPath", () => {
  it.each(HOSTILE_CALLBACKS)("refuses callbackUrl=%s", (encoded) => {
    expect(safeCallbackPath(fromQuery(encoded))).toBe(DEFAULT_CALLBACK_PATH);
  });

  it("refuses at least 20 forms", () => expect(HOSTILE_CALLBACKS.length).toBeGreaterThanOrEqual(20));

  it.each(KEPT_CALLBACKS)("keeps callbackUrl=%s as %s", (encoded, path) => {
    expect(safeCallbackPath(fromQuery(encoded))).toBe(path);
  });

  it("refuses what is not one string, and falls back to the given default", () => {
    expect(safeCallbackPath(undefined)).toBe("/");
    expect(safeCallbackPath(["//evil.example", "/"])).toBe("/");
    expect(safeCallbackPath(["/account", "//evil.example"])).toBe("/account");
    expect(safeCallbackPath(`/${"a".repeat(3000)}`)).toBe("/");
    expect(safeCallbackPath("//evil.example", "/account")).toBe("/account");
  });
});
