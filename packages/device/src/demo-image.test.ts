import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { demoFrame, encodePng, generatedCapture } from "./demo-image";

function chunks(png: Buffer) {
  const out: { type: string; data: Buffer }[] = [];
  for (let offset = 8; offset < png.length;) {
    const length = png.readUInt32BE(offset);
    out.push({ type: png.toString("ascii", offset + 4, offset + 8), data: png.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
  }
  return out;
}

describe("generated PNG", () => {
  it("is a well-formed RGB PNG whose pixels decode back", () => {
    const png = encodePng(3, 2, (x, y) => [x * 10, y * 20, 200]);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const [ihdr, idat, iend] = chunks(png);
    expect(ihdr!.type).toBe("IHDR");
    expect([ihdr!.data.readUInt32BE(0), ihdr!.data.readUInt32BE(4), ihdr!.data[8], ihdr!.data[9]]).toEqual([3, 2, 8, 2]);
    expect(iend!.type).toBe("IEND");
    const rows = inflateSync(idat!.data);
    expect([...rows]).toEqual([0, 0, 0, 200, 10, 0, 200, 20, 0, 200, 0, 0, 20, 200, 10, 20, 200, 20, 20, 200]);
  });

  it("carries correct CRCs (the value for IEND is fixed by the PNG spec)", () => {
    const png = encodePng(1, 1, () => [0, 0, 0]);
    expect(png.subarray(png.length - 4).toString("hex")).toBe("ae426082");
  });

  it("differs from one capture request to the next", () => {
    const a = demoFrame("capture-a", new Date("2026-01-01T00:00:00Z"));
    const b = demoFrame("capture-b", new Date("2026-01-01T00:00:00Z"));
    expect(a.equals(b)).toBe(false);
    expect(generatedCapture("x", new Date("2026-01-01T10:20:30.000Z"))).toMatchObject({
      filename: "capture-2026-01-01T10-20-30-000Z.png",
      contentType: "image/png",
    });
  });
});
