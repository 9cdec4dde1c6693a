/**
 * Command lists from the dashboard: the list lands in the incoming store under the device's
 * folder, the device is told on its commands topic, and the history shows what was sent and the
 * reports the worker recorded.
 */
import { describe, expect, it } from "vitest";
import { listCommandRuns } from "@/server/commands/list-command-runs";
import { sendCommands } from "@/server/commands/send-commands";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { BrokerUnavailableError } from "@/server/mqtt/command-publisher";
import { namedStore } from "@/server/stores/named-stores";
import { contextFor, makeDevice, makeProject, makeUser, prisma } from "./fixtures";

async function world() {
  const admin = await makeUser();
  const viewer = await makeUser();
  const project = await makeProject([
    { user: admin, role: "admin" },
    { user: viewer, role: "viewer" },
  ]);
  const device = await makeDevice(project.id);
  return { project, device, admin: contextFor(admin, project, "admin"), viewer: contextFor(viewer, project, "viewer") };
}

async function read(store: string, key: string): Promise<string> {
  const opened = await namedStore(store).store.open(key);
  const chunks: Buffer[] = [];
  for await (const chunk of opened!.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

describe("sending commands", () => {
  it("writes incoming/{D}/{service}/commands.json, notifies the device, and audits the list", async () => {
    const { device, admin } = await world();
    const sent: { topic: string; payload: Record<string, unknown> }[] = [];
    const commands = [{ command: "uptime" }, { command: "df -h /" }];
    const result = await sendCommands({
      ctx: admin,
      serial: device.serial,
      service: "monitor",
      commands,
      publish: async (topic, payload) => void sent.push({ topic, payload }),
    });
    expect(result).toMatchObject({ objectKey: `incoming/${device.serial}/monitor/commands.json`, notified: true });
    expect(JSON.parse(await read("incoming", `${device.serial}/monitor/commands.json`))).toEqual(commands);
    expect(sent).toEqual([
      {
        topic: `fleetdrop/fleet/${device.serial}/commands`,
        payload: { type: "commands", request_id: result.requestId, service: "monitor", store: "incoming", path: "monitor/commands.json" },
      },
    ]);
  });

  it("keeps the list when the broker is down and says the device was not notified", async () => {
    const { device, admin } = await world();
    const result = await sendCommands({
      ctx: admin,
      serial: device.serial,
      service: "camera",
      commands: [{ command: "date" }],
      publish: async () => {
        throw new BrokerUnavailableError("down");
      },
    });
    expect(result.notified).toBe(false);
    expect(JSON.parse(await read("incoming", `${device.serial}/camera/commands.json`))).toEqual([{ command: "date" }]);
  });

  it("refuses viewers, other projects' devices and disabled devices", async () => {
    const { device, admin, viewer } = await world();
    const publish = async () => {};
    await expect(
      sendCommands({ ctx: viewer, serial: device.serial, service: "m", commands: [{ command: "x" }], publish }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    const other = await world();
    await expect(
      sendCommands({ ctx: admin, serial: other.device.serial, service: "m", commands: [{ command: "x" }], publish }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await prisma().device.update({ where: { id: device.id }, data: { enabled: false } });
    await expect(
      sendCommands({ ctx: admin, serial: device.serial, service: "m", commands: [{ command: "x" }], publish }),
    ).rejects.toBeInstanceOf(UserInputError);
  });
});

describe("command history", () => {
  it("lists sent lists and the device's reports newest first, readable by viewers", async () => {
    const { device, admin, viewer, project } = await world();
    await sendCommands({
      ctx: admin,
      serial: device.serial,
      service: "monitor",
      commands: [{ command: "uptime" }],
      publish: async () => {},
    });
    const report = {
      general_status: "success",
      general_error: null,
      commands: [{ command: "uptime", result: "up 2 days", status: "success" }],
    };
    // As the worker records a stored report (apps/ingest-worker/src/stores/store-objects.ts).
    await prisma().auditLog.create({
      data: {
        projectId: project.id,
        actorType: "device",
        actorLabel: device.serial,
        action: "device.status_report",
        targetType: "service",
        targetId: `${device.serial}/monitor`,
        details: { service: "monitor", etag: '"abc"', report },
        at: new Date(Date.now() + 1000),
      },
    });
    await prisma().auditLog.create({
      data: {
        projectId: project.id,
        actorType: "device",
        actorLabel: device.serial,
        action: "device.status_report",
        targetType: "service",
        targetId: `${device.serial}/camera`,
        details: { service: "camera", etag: '"def"', error: "the report is not valid JSON" },
        at: new Date(Date.now() + 2000),
      },
    });
    const events = await listCommandRuns({ ctx: viewer, serial: device.serial });
    expect(events.map((e) => [e.kind, e.service])).toEqual([
      ["report", "camera"],
      ["report", "monitor"],
      ["sent", "monitor"],
    ]);
    expect(events[0]).toMatchObject({ report: null, error: "the report is not valid JSON" });
    expect(events[1]).toMatchObject({ report });
    expect(events[2]).toMatchObject({ by: admin.user.email, commands: [{ command: "uptime" }], notified: true });
    await expect(listCommandRuns({ ctx: viewer, serial: "NOPE" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("still lists entries written in an older shape, from what their JSON holds", async () => {
    const { device, viewer, project } = await world();
    const entry = { projectId: project.id, actorLabel: device.serial, targetId: device.serial } as const;
    // Neither matches its action's schema today: no requestId/objectKey/notified, no etag.
    await prisma().auditLog.create({
      data: {
        ...entry,
        actorType: "user",
        actorLabel: "old@example.com",
        action: "device.commands",
        targetType: "device",
        details: { service: "monitor", commands: [{ command: "uptime" }] },
      },
    });
    await prisma().auditLog.create({
      data: {
        ...entry,
        actorType: "device",
        action: "device.status_report",
        targetType: "service",
        targetId: `${device.serial}/monitor`,
        details: { service: "monitor", report: { general_status: "ok", commands: [] } },
        at: new Date(Date.now() + 1000),
      },
    });
    const events = await listCommandRuns({ ctx: viewer, serial: device.serial });
    expect(events).toEqual([
      expect.objectContaining({ kind: "report", service: "monitor", report: { general_status: "ok", commands: [] }, error: null }),
      expect.objectContaining({
        kind: "sent",
        by: "old@example.com",
        service: "monitor",
        commands: [{ command: "uptime" }],
        notified: true,
      }),
    ]);
  });
});
