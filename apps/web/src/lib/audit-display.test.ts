import { describe, expect, it } from "vitest";
import { detailLines, readableAddress } from "./audit-display";

describe("audit display", () => {
  it("shows loopback as this machine and unwraps IPv4-mapped IPv6", () => {
    expect(readableAddress("::1")).toBe("this machine (localhost)");
    expect(readableAddress("127.0.0.1")).toBe("this machine (localhost)");
    expect(readableAddress("::ffff:127.0.0.1")).toBe("this machine (localhost)");
    expect(readableAddress("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(readableAddress("2001:db8::5")).toBe("2001:db8::5");
    expect(readableAddress(null)).toBeNull();
  });

  it("turns details into key: value lines", () => {
    expect(detailLines({ filename: "logs/a.log", size: "1024", session: 3 })).toEqual([
      { key: "filename", value: "logs/a.log" },
      { key: "size", value: "1 KiB (1,024 bytes)" },
      { key: "session", value: "3" },
    ]);
    expect(detailLines({ headers: ["Authorization", "X-Key"], isAdmin: false, grace: null })).toEqual([
      { key: "headers", value: "Authorization, X-Key" },
      { key: "isAdmin", value: "no" },
      { key: "grace", value: "—" },
    ]);
    expect(detailLines({ commands: [{ command: "uptime" }, { command: "df -h" }] })).toEqual([{ key: "commands", value: "uptime; df -h" }]);
    expect(detailLines({ report: { status: "ok", count: 2 } })).toEqual([{ key: "report", value: "status ok, count 2" }]);
    expect(detailLines({ text: "x".repeat(400) })[0]!.value).toHaveLength(300);
    expect(detailLines(null)).toEqual([]);
  });
});
