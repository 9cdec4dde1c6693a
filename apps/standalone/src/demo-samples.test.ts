import { describe, expect, it } from "vitest";
import { filenameProblem } from "@fleetdrop/shared/names";
import { demoSampleFiles } from "./demo-samples";

describe("the demo session's sample files", () => {
  it("are valid spec filenames with real PNG, text and JSON content", () => {
    const samples = demoSampleFiles(new Date("2026-11-23T12:00:00Z"));
    expect(samples.map((sample) => sample.filename)).toEqual([
      "camera/frame-0001.png",
      "camera/frame-0002.png",
      "camera/frame-0003.png",
      "logs/robot.log",
      "telemetry.json",
    ]);
    for (const sample of samples) expect(filenameProblem(sample.filename)).toBeNull();

    const png = samples[0]!.data;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(samples[0]!.data.equals(samples[1]!.data)).toBe(false);

    const log = samples[3]!.data.toString("utf8").trimEnd().split("\n");
    expect(log).toHaveLength(5_000);
    expect(log[0]).toMatch(/^2026-11-23T11:00:00\.000Z INFO {2}\[nav\] /);
    expect(log.some((line) => line.includes(" WARN "))).toBe(true);

    expect(JSON.parse(samples[4]!.data.toString("utf8"))).toMatchObject({ device: "DEMO-001", battery: { percent: 82.5 } });
  });
});
