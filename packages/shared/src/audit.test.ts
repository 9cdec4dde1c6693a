import { describe, expect, it } from "vitest";
import { AUDIT_DETAILS, isAuditAction, parseAuditDetails, parseAuditEvent, type TAuditEvent } from "./audit";

describe("audit details", () => {
  it("reads back what writers store, per action", () => {
    const written: TAuditEvent[] = [
      {
        action: "store.upload",
        details: { store: "status", path: "m/x.json", key: "R/m/x.json", size: 12, etag: '"e"', contentType: "a/b" },
      },
      { action: "store.download", details: { store: "config", path: "robot.yaml", key: "R/robot.yaml", size: 9, etag: '"e"' } },
      { action: "device.status_report", details: { service: "monitor", etag: '"e"', report: { general_status: "ok", commands: [] } } },
      { action: "device.status_report", details: { service: "camera", etag: '"e"', error: "the report is not valid JSON" } },
      {
        action: "file.object_replaced",
        details: { object_key: "sessions/R/1/a", recorded: { etag: null, size: null }, found: { etag: '"f"', size: 3 }, via: "sweeper" },
      },
      { action: "session.open", details: { name: "run 1" } },
      { action: "session.open" },
      { action: "session.close" },
      { action: "file.download", details: { session: 3, filename: "a.log", size: "1024" } },
      {
        action: "device.commands",
        details: { service: "s", requestId: "r", commands: [{ command: "uptime" }], objectKey: "k", notified: false },
      },
      {
        action: "session.capture",
        details: { device: "R", requestId: "capture-1", sessionId: 4, presence: "offline", presenceSource: "last_seen" },
      },
    ];
    for (const event of written) {
      // The database holds SQL NULL where a writer gives no details.
      const stored: unknown = JSON.parse(JSON.stringify(event.details ?? null));
      expect(parseAuditEvent(event.action, stored), event.action).toEqual({ action: event.action, details: event.details });
    }
  });

  it("answers null for rows it cannot read (older shapes, unknown actions), so callers show the raw JSON", () => {
    expect(parseAuditEvent("store.download", { store: "config", path: "robot.yaml" })).toBeNull();
    expect(parseAuditEvent("file.view", { session: "3", filename: "a.log", size: 1024 })).toBeNull();
    expect(parseAuditEvent("device.status_report", { service: "monitor", etag: '"e"' })).toBeNull();
    expect(parseAuditEvent("session.close", { reason: "unexpected" })).toBeNull();
    expect(parseAuditEvent("project.archive", { slug: "x" })).toBeNull();
    expect(parseAuditEvent("toString", null)).toBeNull();
    expect(parseAuditDetails("session.capture", { device: "R", requestId: "x", sessionId: 1, presence: "away" })).toBeNull();
  });

  it("knows each action by its dotted name", () => {
    for (const action of Object.keys(AUDIT_DETAILS)) {
      expect(action).toMatch(/^[a-z_]+\.[a-z_]+$/);
      expect(isAuditAction(action)).toBe(true);
    }
    expect(isAuditAction("__proto__")).toBe(false);
  });
});
