import { describe, expect, it } from "vitest";
import { parseDeviceCsv } from "./csv";

describe("device CSV", () => {
  it("reads a plain list of serials, skipping blank and comment lines", () => {
    expect(parseDeviceCsv("\uFEFFSN-1\r\n\n# batch 7\nSN-2\n")).toEqual([
      { line: 1, serial: "SN-1" },
      { line: 4, serial: "SN-2" },
    ]);
  });

  it("reads named columns in any order, with quoted fields", () => {
    const csv = 'auth,name,serial\ncert,"Arm, left",SN-1\npassword,"say ""hi""",SN-2\n,,SN-3';
    expect(parseDeviceCsv(csv)).toEqual([
      { line: 2, serial: "SN-1", name: "Arm, left", authMode: "certificate" },
      { line: 3, serial: "SN-2", name: 'say "hi"', authMode: "password" },
      { line: 4, serial: "SN-3" },
    ]);
  });

  it("says which line is wrong", () => {
    expect(() => parseDeviceCsv("serial,auth\nSN-1,token")).toThrow(/line 2: auth must be certificate or password, not "token"/);
    expect(() => parseDeviceCsv('SN-1\n"SN-2')).toThrow(/line 2: a quoted field is not closed/);
    expect(() => parseDeviceCsv("\n# nothing\n")).toThrow(/no devices/);
  });
});
