import { describe, expect, it } from "vitest";
import { fieldErrors } from "./forms";
import { ZSendCommandsSchema } from "./commands-form";

describe("send commands form", () => {
  it("takes one command per line, or a pasted JSON array", () => {
    expect(ZSendCommandsSchema.parse({ serial: "R1", service: " monitor ", commands: "uptime\n\n  df -h /  \n" })).toEqual({
      serial: "R1",
      service: "monitor",
      commands: [{ command: "uptime" }, { command: "df -h /" }],
    });
    expect(ZSendCommandsSchema.parse({ serial: "R1", service: "monitor", commands: '[{"command": "date"}]' }).commands).toEqual([
      { command: "date" },
    ]);
  });

  it("says what is wrong, per field", () => {
    const result = ZSendCommandsSchema.safeParse({ serial: "R1", service: "../x", commands: "   " });
    expect(result.success).toBe(false);
    const errors = fieldErrors(result.error!);
    expect(errors.service).toMatch(/letters, digits/);
    expect(errors.commands).toBe("Add at least one command");
    expect(fieldErrors(ZSendCommandsSchema.safeParse({ serial: "R1", service: "m", commands: "[not json" }).error!).commands).toMatch(
      /not valid JSON/,
    );
    expect(
      fieldErrors(ZSendCommandsSchema.safeParse({ serial: "R1", service: "m", commands: '[{"cmd": 1}]' }).error!).commands,
    ).toBeTruthy();
  });
});
