import { describe, expect, it } from "vitest";
import { runCommands, shellRunner } from "./commands";

describe("running a command list", () => {
  it("runs commands in order in the shell, keeps going after a failure, and reports each", async () => {
    const report = await runCommands(
      [{ command: "echo first" }, { command: "echo oops >&2; exit 3" }, { command: "printf last" }],
      shellRunner(5_000),
    );
    expect(report).toEqual({
      general_status: "error",
      general_error: "1 of 3 commands failed",
      commands: [
        { command: "echo first", result: "first", status: "success" },
        { command: "echo oops >&2; exit 3", result: "oops\n(exit code 3)", status: "error" },
        { command: "printf last", result: "last", status: "success" },
      ],
    });
  });

  it("stops a command that runs too long", async () => {
    const report = await runCommands([{ command: "sleep 5" }], shellRunner(200));
    expect(report.commands[0]).toMatchObject({ status: "error", result: expect.stringContaining("timed out after 0.2 s") });
  });

  it("reports success when everything succeeded, and a runner that throws as an error", async () => {
    const order: string[] = [];
    const report = await runCommands([{ command: "a" }, { command: "b" }], async (command) => {
      order.push(command);
      if (command === "b") throw new Error("no such tool");
      return { result: "ok", status: "success" };
    });
    expect(order).toEqual(["a", "b"]);
    expect(report.commands[1]).toEqual({ command: "b", result: "no such tool", status: "error" });
    expect((await runCommands([{ command: "true" }], shellRunner())).general_status).toBe("success");
  });
});
