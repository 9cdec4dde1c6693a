import { createServer, type AddressInfo, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { createCommandPublisher, webClientId } from "@/server/mqtt/command-publisher";
import { requestCapture } from "@/server/sessions/request-capture";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { contextFor, makeDevice, makeProject, makeSession, makeUser, prisma } from "./fixtures";

let server: Server;
let broker: Aedes;
let url: string;

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("capture requests", () => {
  it("publish {type: capture, request_id, session_id} on the device's commands topic, and audit it", async () => {
    const user = await makeUser();
    const project = await makeProject([{ user, role: "member" }]);
    const device = await makeDevice(project.id);
    const session = await makeSession(device, project.id);

    const listener = await mqtt.connectAsync(url, { protocolVersion: 4 });
    const received: { topic: string; body: Record<string, unknown> }[] = [];
    listener.on("message", (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) }));
    await listener.subscribeAsync("fleetdrop/fleet/+/commands", { qos: 1 });
    const publisher = createCommandPublisher({ url });
    try {
      const { requestId } = await requestCapture({
        ctx: contextFor(user, project, "member"),
        sessionId: session.id,
        publish: publisher.publish,
      });
      await expect.poll(() => received.length).toBe(1);
      expect(received[0]).toEqual({
        topic: `fleetdrop/fleet/${device.serial}/commands`,
        body: { type: "capture", request_id: requestId, session_id: session.id },
      });
      expect(await prisma().auditLog.findFirst({ where: { action: "session.capture", targetId: String(session.id) } })).toMatchObject({
        details: { requestId },
      });
    } finally {
      await publisher.close();
      await listener.endAsync();
    }
  });

  it("refuse viewers, closed sessions, disabled devices, other projects; say so when the broker is down", async () => {
    const user = await makeUser();
    const project = await makeProject([{ user, role: "member" }]);
    const other = await makeProject();
    const device = await makeDevice(project.id);
    const open = await makeSession(device, project.id);
    const closed = await prisma().session.create({
      data: { deviceId: device.id, projectId: project.id, name: "done", state: "closed" },
      select: { id: true },
    });
    const foreign = await makeSession(await makeDevice(other.id), other.id);
    const member = contextFor(user, project, "member");
    const sent: unknown[] = [];
    const publish = async (_topic: string, payload: Record<string, unknown>) => void sent.push(payload);

    await expect(requestCapture({ ctx: contextFor(user, project, "viewer"), sessionId: open.id, publish })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(requestCapture({ ctx: member, sessionId: closed.id, publish })).rejects.toThrow(/closed/);
    await expect(requestCapture({ ctx: member, sessionId: foreign.id, publish })).rejects.toBeInstanceOf(NotFoundError);
    await prisma().device.update({ where: { id: device.id }, data: { enabled: false } });
    await expect(requestCapture({ ctx: member, sessionId: open.id, publish })).rejects.toThrow(/disabled/);
    await prisma().device.update({ where: { id: device.id }, data: { enabled: true } });
    expect(sent).toEqual([]);

    const down = createCommandPublisher({ url: "mqtt://127.0.0.1:1" });
    try {
      await expect(requestCapture({ ctx: member, sessionId: open.id, publish: down.publish })).rejects.toBeInstanceOf(UserInputError);
    } finally {
      await down.close();
    }
    expect(await prisma().auditLog.count({ where: { action: "session.capture", targetId: String(open.id) } })).toBe(0);
  });
});

describe("the app's broker connection", () => {
  it("publishes and reads retained messages on one connection, whose client id is a bound service account", async () => {
    const connected: string[] = [];
    const onClient = (client: { id: string }) => connected.push(client.id);
    broker.on("client", onClient);
    const device = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: "ROBOT-P" });
    await device.publishAsync("fleetdrop/fleet/ROBOT-P/presence", JSON.stringify({ online: true }), { qos: 1, retain: true });
    const app = createCommandPublisher({ url, username: "fleetdrop-web:one", password: "secret" });
    try {
      const [first, second, none] = await Promise.all([
        app.readRetained("fleetdrop/fleet/ROBOT-P/presence"),
        app.readRetained("fleetdrop/fleet/ROBOT-P/presence"),
        app.readRetained("fleetdrop/fleet/ROBOT-NONE/presence", 600),
      ]);
      expect(first?.toString()).toBe('{"online":true}');
      expect(second?.toString()).toBe('{"online":true}');
      expect(none).toBeNull();
      await app.publish("fleetdrop/fleet/ROBOT-P/commands", { type: "capture", request_id: "r", session_id: 1 });
      expect((await app.readRetained("fleetdrop/fleet/ROBOT-P/presence"))?.toString()).toBe('{"online":true}');
      expect(connected.filter((id) => id.startsWith("fleetdrop-web"))).toEqual(["fleetdrop-web:one"]);
    } finally {
      broker.off("client", onClient);
      await app.close();
      await device.endAsync();
    }
  });

  it("takes a service account as its client id, and otherwise an id no device can hold", () => {
    expect(webClientId("fleetdrop-web:1")).toBe("fleetdrop-web:1");
    expect(webClientId("fleetdrop-web")).toMatch(/^fleetdrop-web:\d+-[a-z0-9]+$/);
    expect(webClientId(undefined)).toMatch(/^fleetdrop-web:/);
  });
});
