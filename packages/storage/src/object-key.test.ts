import { describe, expect, it } from "vitest";

import { assertNoFilenameVariable, listPrefixProblem, normalizeStorePrefix, objectKeyProblem, storedObjectKey } from "./object-key";
import { InvalidObjectKeyError } from "./store";

describe("object keys", () => {
  it("accepts ordinary keys, including any characters a filesystem can hold", () => {
    for (const key of ["a", "sessions/ROBOT-1/7/logs/system.log", "x.json", "ünïcødé/文件.txt", "a b/c+d=e", ".hidden", "a..b"]) {
      expect(objectKeyProblem(key), key).toBeNull();
    }
  });

  it("refuses keys that could escape or that a filesystem cannot hold", () => {
    const refused = ["", "/abs", "a/../b", "..", ".", "a/.", "a//b", "a/", "a\\b", "a\u0000b", "x".repeat(256), `${"a/".repeat(600)}b`];
    for (const key of refused) expect(objectKeyProblem(key), JSON.stringify(key)).not.toBeNull();
  });

  it("builds a store's key from its prefix, checking the key and the whole", () => {
    expect(storedObjectKey("", "sessions/R/1/a.bin")).toBe("sessions/R/1/a.bin");
    expect(storedObjectKey("config/", "R/a.json")).toBe("config/R/a.json");
    for (const prefix of ["", "config/"]) {
      for (const key of ["", "../x", "a//b", "/abs", "a\\b"]) {
        expect(() => storedObjectKey(prefix, key), `${prefix}${key}`).toThrow(InvalidObjectKeyError);
      }
    }
    // Valid alone, too long with the prefix.
    const long = `${"k".repeat(200)}/`.repeat(5) + "x".repeat(19);
    expect(storedObjectKey("", long)).toBe(long);
    expect(() => storedObjectKey("config/", long)).toThrow(/at most 1024 bytes/);
  });

  it("refuses ${filename} in a form key", () => {
    expect(() => assertNoFilenameVariable("a/${filename}")).toThrow(InvalidObjectKeyError);
    expect(() => assertNoFilenameVariable("a/file.bin")).not.toThrow();
  });

  it("normalises store prefixes", () => {
    expect(normalizeStorePrefix(undefined)).toBe("");
    expect(normalizeStorePrefix("")).toBe("");
    expect(normalizeStorePrefix("/")).toBe("");
    expect(normalizeStorePrefix("config")).toBe("config/");
    expect(normalizeStorePrefix("/a/b/")).toBe("a/b/");
    expect(() => normalizeStorePrefix("a/../b")).toThrow(/invalid store prefix/);
  });

  it("checks list prefixes by their folder part only", () => {
    expect(listPrefixProblem("")).toBeNull();
    expect(listPrefixProblem("logs/sys")).toBeNull();
    expect(listPrefixProblem("logs/.")).toBeNull(); // a name filter, not a folder
    expect(listPrefixProblem("../x")).not.toBeNull();
    expect(listPrefixProblem("a//b")).not.toBeNull();
    expect(listPrefixProblem("/a")).not.toBeNull();
  });
});
