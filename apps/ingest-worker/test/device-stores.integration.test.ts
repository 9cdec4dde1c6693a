/**
 * The device SDK's store, command and capture features against the real worker, Mosquitto and fs store:
 * downloads, the command round trip (commands.json → run in order → status report), captures
 * answered by the SDK's hook with the command's request_id, and the retained presence signal.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { FleetdropError } from "@fleetdrop/device/errors";
import { dropConnection } from "@fleetdrop/mqtt-internals";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type THarness } from "./harness";

let h: THarness;
let tmp: string;
let dashboard: mqtt.MqttClient;

beforeAll(async () => {
  h = await createHarness("devstores");
  await h.startWorker();
  tmp = await mkdtemp(path.join(tmpdir(), "fd-devstores-"));
  dashboard = await mqtt.connectAsync(h.broker.url, { clientId: "dashboard-test", protocolVersion: 4 });
});

afterAll(async () => {
  await dashboard?.endAsync();
  await h?.close();
});

const connect = () => FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A", timeoutMs: 5000 });

describe("device SDK downloads", () => {
  it("downloads its config to a file, verified, and refuses what it may not read", async () => {
    await h.namedStores.get("config")!.store.put("ROBOT-A/nav/params.yaml", "max_speed: 1.5\n", { contentType: "application/yaml" });
    const device = await connect();
    try {
      const target = path.join(tmp, "deep/params.yaml");
      const result = await device.download({ store: "config", path: "nav/params.yaml", to: target });
      expect(result).toMatchObject({ path: target, size: 15 });
      expect(await readFile(target, "utf8")).toBe("max_speed: 1.5\n");
      await expect(device.download({ store: "config", path: "missing.yaml", to: path.join(tmp, "m") })).rejects.toMatchObject({
        code: "object_not_found",
        status: 404,
      });
      await expect(device.download({ store: "status", path: "x", to: path.join(tmp, "s") })).rejects.toBeInstanceOf(FleetdropError);
      await expect(device.requestDownload({ store: "config", path: "../ROBOT-B/x" })).rejects.toMatchObject({
        code: "path_not_allowed",
        status: 403,
      });
    } finally {
      await device.close();
    }
  });
});

describe("commands round trip", () => {
  it("fetches commands.json on notice, runs the commands in order and uploads the report the platform records", async () => {
    await h.namedStores
      .get("incoming")!
      .store.put(
        "ROBOT-A/monitor/commands.json",
        JSON.stringify([{ command: "echo one" }, { command: "exit 4" }, { command: "echo three" }]),
        { contentType: "application/json" },
      );
    const device = await connect();
    const reported = new Promise<unknown>((resolve) => {
      void device.listen({ onReported: (_notice, report) => resolve(report) });
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await dashboard.publishAsync(
        "fleetdrop/fleet/ROBOT-A/commands",
        JSON.stringify({ type: "commands", request_id: "cmd-1", service: "monitor", store: "incoming", path: "monitor/commands.json" }),
        { qos: 1 },
      );
      const expected = {
        general_status: "error",
        general_error: "1 of 3 commands failed",
        commands: [
          { command: "echo one", result: "one", status: "success" },
          { command: "exit 4", result: "exit code 4", status: "error" },
          { command: "echo three", result: "three", status: "success" },
        ],
      };
      expect(await reported).toEqual(expected);
      await expect
        .poll(() => h.prisma.auditLog.findFirst({ where: { action: "device.status_report", targetId: "ROBOT-A/monitor" } }), {
          timeout: 10_000,
        })
        .toMatchObject({ actorLabel: "ROBOT-A", details: expect.objectContaining({ service: "monitor", report: expected }) });
      const stored = await h.namedStores.get("status")!.store.open("ROBOT-A/monitor/last_monitoring_status.json");
      const chunks: Buffer[] = [];
      for await (const chunk of stored!.body) chunks.push(chunk as Buffer);
      expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual(expected);
    } finally {
      await device.close();
    }
  });
});

describe("capture", () => {
  it("answers a capture command through the hook: the upload carries the command's request_id and lands in the session", async () => {
    const device = await connect();
    const captured = new Promise<string>((resolve) => {
      void device.listen({
        onCapture: async (command) => ({
          data: Buffer.from(`frame for ${command.request_id}`),
          filename: "captures/frame.png",
          contentType: "image/png",
        }),
        onCaptured: (_command, upload) => resolve(upload.objectKey),
      });
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const command = JSON.stringify({ type: "capture", request_id: "capture-123", session_id: h.seed.openA });
      await dashboard.publishAsync("fleetdrop/fleet/ROBOT-A/commands", command, { qos: 1 });
      // A re-delivered command is answered once.
      await dashboard.publishAsync("fleetdrop/fleet/ROBOT-A/commands", command, { qos: 1 });
      expect(await captured).toBe(`sessions/ROBOT-A/${h.seed.openA}/captures/frame.png`);
      const file = await h.prisma.file.findUnique({
        where: { sessionId_filename: { sessionId: h.seed.openA, filename: "captures/frame.png" } },
      });
      expect(file).toMatchObject({
        requestId: "capture-123",
        state: "uploaded",
        contentType: "image/png",
        size: BigInt("frame for capture-123".length),
      });
    } finally {
      await device.close();
    }
  });

  it("keeps a retained presence: online while connected, offline after close or a dropped connection", async () => {
    const presence = async () => {
      const reader = await mqtt.connectAsync(h.broker.url, { clientId: `presence-${Math.random()}`, protocolVersion: 4 });
      try {
        const message = new Promise<Record<string, unknown>>((resolve) =>
          reader.once("message", (_t, payload) => resolve(JSON.parse(payload.toString()))),
        );
        await reader.subscribeAsync("fleetdrop/fleet/ROBOT-B/presence", { qos: 1 });
        return await message;
      } finally {
        await reader.endAsync();
      }
    };
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-B", announcePresence: true });
    await expect.poll(presence).toMatchObject({ online: true });
    await device.close();
    await expect.poll(presence).toMatchObject({ online: false });

    const dropped = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-B", announcePresence: true });
    await expect.poll(presence).toMatchObject({ online: true });
    dropped.client.options.reconnectPeriod = 0; // stay away, so only the Will speaks
    dropConnection(dropped.client); // no DISCONNECT: the broker publishes the Last Will
    await expect.poll(presence, { timeout: 10_000 }).toMatchObject({ online: false });
    await dropped.client.endAsync(true);
  });
});
