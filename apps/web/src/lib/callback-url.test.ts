import { describe, expect, it } from "vitest";
import { DEFAULT_CALLBACK_PATH, safeCallbackPath } from "./callback-url";

/**
 * Query strings as they arrive at `/sign-in?callbackUrl=...`; URLSearchParams decodes them the
 * way the page's searchParams does. Each of these leads a browser off the site, or would after
 * one more decode, and must fall back to the default path.
 */
const REFUSED_CALLBACKS = [
  "/%5Cevil.example/",
  "/%09/evil.example/",
  "/%0A/evil.example/",
  "/%0D/evil.example/",
  "/%00/evil.example/",
  "//evil.example/",
  "///evil.example/",
  "/%2F/evil.example/",
  "%2F%2Fevil.example/",
  "/%5C/evil.example/",
  "%5C%5Cevil.example/",
  "%5C%2Fevil.example/",
  "/%252F/evil.example/",
  "/%255Cevil.example/",
  "/%25252F/evil.example/",
  "/.//evil.example/",
  "/..//evil.example/",
  "//user:pass@evil.example/",
  "%EF%BC%8F%EF%BC%8Fevil.example/",
  "https://evil.example/",
  "https:/evil.example/",
  "http:evil.example",
  "javascript:alert(document.domain)",
  "data:text/html,<script>alert(1)</script>",
  "%20//evil.example/",
  "%E3%80%80//evil.example/",
  "/%E2%80%A8/evil.example/",
  "evil.example",
  "",
] as const;

const KEPT_CALLBACKS: [query: string, path: string][] = [
  ["/", "/"],
  ["/account", "/account"],
  ["%2Fp%2Fdemo%2Fsessions%3Fq%3Da%2520b", "/p/demo/sessions?q=a%20b"],
  ["/p/demo/sessions/7#files", "/p/demo/sessions/7#files"],
  ["/p/demo/sessions/./7", "/p/demo/sessions/7"],
];

const fromQuery = (encoded: string) => new URLSearchParams(`callbackUrl=${encoded}`).get("callbackUrl");

describe("safeCallbackPath", () => {
  it.each(REFUSED_CALLBACKS)("refuses callbackUrl=%s", (encoded) => {
    expect(safeCallbackPath(fromQuery(encoded))).toBe(DEFAULT_CALLBACK_PATH);
  });

  it("refuses at least 20 forms", () => expect(REFUSED_CALLBACKS.length).toBeGreaterThanOrEqual(20));

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
