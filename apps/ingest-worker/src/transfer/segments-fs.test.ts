import { describe, expect, it } from "vitest";
import { adjacentRuns } from "./segments-fs";

describe("adjacentRuns", () => {
  it("records segments of a transfer that follow each other as one range, in any order of arrival", () => {
    const a = "00000000-0000-4000-8000-00000000000a";
    const b = "00000000-0000-4000-8000-00000000000b";
    const k = 65536;
    expect(
      adjacentRuns([
        { transferId: a, offset: 2 * k, length: k },
        { transferId: b, offset: 0, length: 100 },
        { transferId: a, offset: 0, length: k },
        { transferId: a, offset: k, length: k },
        { transferId: a, offset: 5 * k, length: k }, // after a gap
        { transferId: b, offset: 100, length: 50 },
        { transferId: b, offset: 120, length: 80 }, // overlaps: its own range
      ]),
    ).toEqual([
      { transferId: a, offset: 0, length: 3 * k },
      { transferId: a, offset: 5 * k, length: k },
      { transferId: b, offset: 0, length: 150 },
      { transferId: b, offset: 120, length: 80 },
    ]);
  });
});
