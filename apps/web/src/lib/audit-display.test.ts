import { describe, expect, it } from "vitest";
import { auditDetailLines, detailLines, readableAddress, recordedTargetName } from "./audit-display";

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

  it("reads details with the action's schema, and shows rows of older shapes from their raw JSON", () => {
    expect(auditDetailLines("file.download", { session: 3, filename: "a.log", size: "2048" })).toEqual([
      { key: "session", value: "3" },
      { key: "filename", value: "a.log" },
      { key: "size", value: "2 KiB (2,048 bytes)" },
    ]);
    // An older row: size as a number and a field this version no longer writes.
    expect(auditDetailLines("file.download", { filename: "a.log", size: 2048, legacy: true })).toEqual([
      { key: "filename", value: "a.log" },
      { key: "size", value: "2 KiB (2,048 bytes)" },
      { key: "legacy", value: "yes" },
    ]);
    expect(auditDetailLines("session.close", null)).toEqual([]);
    expect(auditDetailLines("no.such_action", "free text")).toEqual([{ key: "details", value: "free text" }]);
  });

  it("names a deleted target by what its entry recorded", () => {
    const row = (action: string, targetType: string, details: unknown) => ({ action, targetType, targetId: "7", details });
    expect(recordedTargetName(row("session.rename", "session", { from: "a", to: "b" }))).toBe("“b” (#7)");
    expect(recordedTargetName(row("session.close", "session", null))).toBe("#7");
    expect(recordedTargetName(row("member.role", "user", { email: "x@y.z", from: "viewer", to: "admin" }))).toBe("x@y.z");
    expect(recordedTargetName(row("stream.parked_retry", "chunk_stream", { name: "cam", chunks: 2 }))).toBe("cam");
    expect(recordedTargetName(row("file.object_replaced", "file", { object_key: "k" }))).toBeNull();
    // Rows that predate the schema: the usual keys by target type.
    expect(recordedTargetName(row("file.view", "file", { filename: "old.log" }))).toBe("old.log");
    expect(recordedTargetName(row("session.archive", "session", { name: "old run" }))).toBe("“old run” (#7)");
  });
});
