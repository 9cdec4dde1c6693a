import { describe, expect, it } from "vitest";
import { formatBytes, progressReporter } from "./progress";

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (text: string) => (out.push(text), true) } as unknown as NodeJS.WriteStream };
}

describe("progress", () => {
  it("formats byte counts in IEC units, as the dashboard does", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(209_715_200)).toBe("200 MiB");
    expect(formatBytes(268_435_456)).toBe("256 MiB");
  });

  it("prints plain lines (percent, bytes, rate, ETA) when not on a terminal", () => {
    const { out, stream } = sink(false);
    const progress = progressReporter("big.bin", stream);
    progress.update({ sent: 0, total: 1000 });
    progress.update({ sent: 500, total: 1000 }); // within 5 s of the last line: skipped
    progress.update({ sent: 1000, total: 1000 }); // done: always printed
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^big\.bin: 0% 0 B \/ 1000 B {2}.*\/s {2}ETA .*\n$/);
    expect(out[1]).toMatch(/^big\.bin: 100% 1000 B \/ 1000 B .*ETA 0:00\n$/);
    expect(out.join("")).not.toContain("\r");
  });

  it("redraws one line with a bar on a terminal", () => {
    const { out, stream } = sink(true);
    const progress = progressReporter("x", stream);
    progress.update({ sent: 1000, total: 1000 });
    expect(out[0]).toMatch(/^\rx \[#{24}\] 100%/);
    expect(out[1]).toBe("\n");
  });
});
