import { describe, expect, it } from "vitest";
import { demoCommandRunner } from "./demo-device";

describe("the demo device's commands", () => {
  it("answers its built-in commands and refuses everything else without running a shell", async () => {
    expect(await demoCommandRunner("echo hello  world")).toEqual({ result: "hello world", status: "success" });
    expect((await demoCommandRunner("date")).result).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await demoCommandRunner("uptime")).toMatchObject({ status: "success", result: expect.stringMatching(/^up \d+ minutes$/) });
    expect(await demoCommandRunner("rm -rf /")).toEqual({
      result: 'the demo device only knows uptime, date, hostname and echo (not "rm")',
      status: "error",
    });
  });
});
