/** agent/status (docs/protocol.md#agentstatus): the worker keeps each device's last agent report. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, rawDevice, type THarness } from "./harness";

let h: THarness;
let a: Awaited<ReturnType<typeof rawDevice>>;

beforeAll(async () => {
  h = await createHarness("agent-status");
  await h.startWorker();
  a = await rawDevice(h.broker, "ROBOT-A");
});

afterAll(async () => {
  await a?.close();
  await h?.close();
});

const statusOf = async (serial: string) => {
  const device = await h.prisma.device.findUniqueOrThrow({ where: { serial }, include: { agentStatus: true } });
  return device.agentStatus;
};

describe("agent/status", () => {
  it("stores a report, and the next report replaces it (an error cleared with it)", async () => {
    const first = await a.ask("agent/status", {
      backlog_files: 3,
      backlog_bytes: 7_340_032,
      oldest_waiting_at: "2026-12-07T09:00:00.000Z",
      last_error: "disk full: cannot write /var/lib/fleetdrop-agent/state.json",
      last_error_at: "2026-12-07T09:01:00.000Z",
    });
    expect(first).toMatchObject({ success: true, status: 200 });
    expect(Date.parse(String(first.received_at))).toBeGreaterThan(Date.now() - 60_000);
    expect(await statusOf("ROBOT-A")).toMatchObject({
      backlogFiles: 3,
      backlogBytes: 7_340_032n,
      oldestWaitingAt: new Date("2026-12-07T09:00:00.000Z"),
      lastError: "disk full: cannot write /var/lib/fleetdrop-agent/state.json",
      lastErrorAt: new Date("2026-12-07T09:01:00.000Z"),
    });

    expect(await a.ask("agent/status", { backlog_files: 0, backlog_bytes: 0, oldest_waiting_at: null })).toMatchObject({ success: true });
    expect(await statusOf("ROBOT-A")).toMatchObject({
      backlogFiles: 0,
      backlogBytes: 0n,
      oldestWaitingAt: null,
      lastError: null,
      lastErrorAt: null,
    });
    expect(await h.prisma.deviceAgentStatus.count()).toBe(1);
  });

  it("refuses reports it could not store with a code, and keeps the last good one", async () => {
    await a.ask("agent/status", { backlog_files: 5, backlog_bytes: 50 });
    for (const bad of [
      { backlog_files: -1, backlog_bytes: 0 },
      { backlog_files: 1, backlog_bytes: 2 ** 60 },
      { backlog_files: 1, backlog_bytes: 1, oldest_waiting_at: "2026-13-40T00:00:00.000Z" },
      { backlog_files: 1, backlog_bytes: 1, last_error: "e".repeat(5000) },
      { backlog_files: "many", backlog_bytes: 1 },
    ])
      expect(await a.ask("agent/status", bad)).toMatchObject({ success: false, status: 400, code: "invalid_payload" });
    await a.send("agent/status", "not json{");
    expect((await a.next((m) => m.topic.endsWith("/agent/response") && m.body.code === "invalid_json")).body).toMatchObject({
      status: 400,
    });
    expect(await statusOf("ROBOT-A")).toMatchObject({ backlogFiles: 5, backlogBytes: 50n });
  });

  it("answers unknown and disabled devices with their codes and stores nothing for them", async () => {
    const ghost = await rawDevice(h.broker, "ROBOT-GHOST");
    const off = await rawDevice(h.broker, h.seed.disabled);
    try {
      expect(await ghost.ask("agent/status", { backlog_files: 1, backlog_bytes: 1 })).toMatchObject({
        status: 403,
        code: "device_unknown",
      });
      expect(await off.ask("agent/status", { backlog_files: 1, backlog_bytes: 1 })).toMatchObject({ status: 403, code: "device_disabled" });
      expect(await statusOf(h.seed.disabled)).toBeNull();
    } finally {
      await ghost.close();
      await off.close();
    }
  });
});
