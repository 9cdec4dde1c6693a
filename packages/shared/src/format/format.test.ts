import { describe, expect, it } from "vitest";
import { formatBytes } from "./bytes";
import { formatCount, plural } from "./plural";

describe("formatBytes (IEC)", () => {
  it("labels powers of 1024 as KiB, MiB, GiB", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1 KiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(209_715_200)).toBe("200 MiB");
    expect(formatBytes(268_435_456)).toBe("256 MiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5 GiB");
    expect(formatBytes(12_345_678)).toBe("11.8 MiB");
  });

  it("never prints 1024 of a unit", () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe("1 MiB");
  });

  it("accepts bigint and numeric strings; anything else is a dash", () => {
    expect(formatBytes(2048n)).toBe("2 KiB");
    expect(formatBytes("3072")).toBe("3 KiB");
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(undefined)).toBe("—");
    expect(formatBytes("x")).toBe("—");
  });
});

describe("plural", () => {
  it("picks the form by Intl.PluralRules", () => {
    expect(formatCount(1, "account")).toBe("1 account");
    expect(formatCount(0, "account")).toBe("0 accounts");
    expect(formatCount(2, "command")).toBe("2 commands");
    expect(formatCount(1200, "file")).toBe("1,200 files");
    expect(formatCount(1, { one: "entry", other: "entries" })).toBe("1 entry");
    expect(formatCount(3, { one: "entry", other: "entries" })).toBe("3 entries");
    expect(plural(1n, "file")).toBe("file");
  });
});
