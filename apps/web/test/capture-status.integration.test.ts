/**
 * Capture requests followed to the end: presence read from the broker (a real Mosquitto with a
 * retained presence), the states waiting → uploading → arrived, timed out, device offline, and
 * captures requested from a device's page.
 */
import { startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devicePresence } from "@/server/captures/device-presence";
import { CAPTURE_TIMEOUT_MS, getCaptureStatus } from "@/server/captures/get-capture-status";
import { requestDeviceCapture } from "@/server/captures/request-device-capture";
import { NotFoundError, UserInputError } from "@/server/errors";
import { requestCapture } from "@/server/sessions/request-capture";
import { contextFor, makeDevice, makeProject, makeSession, makeUser, prisma } from "./fixtures";

let broker: TMosquitto;

beforeAll(async () => {
  broker = await startMosquitto();
  process.env.MQTT_URL = broker.url;
});

afterAll(async () => {
  await broker?.stop();
  await broker?.cleanup();
});

const sent: Record<string, unknown>[] = [];
const publish = async (_topic: string, payload: Record<string, unknown>) => void sent.push(payload);
const online = async () => ({ state: "online" as const, source: "presence" as const });
const offline = async () => ({ state: "offline" as const, source: "presence" as const });

async function world() {
  const user = await makeUser();
  const project = await makeProject([{ user, role: "member" }]);
  const device = await makeDevice(project.id);
  const session = await makeSession(device, project.id);
  return { ctx: contextFor(user, project, "member"), project, device, session };
}

describe("device presence", () => {
  it("reads the retained presence the device SDK keeps, and falls back on last seen without one", async () => {
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      await publisher.publishAsync("fleetdrop/fleet/CAM-1/presence", JSON.stringify({ online: true }), { qos: 1, retain: true });
      await publisher.publishAsync("fleetdrop/fleet/CAM-2/presence", JSON.stringify({ online: false }), { qos: 1, retain: true });
    } finally {
      await publisher.endAsync();
    }
    expect(await devicePresence("CAM-1", null)).toEqual({ state: "online", source: "presence" });
    expect(await devicePresence("CAM-2", new Date())).toEqual({ state: "offline", source: "presence" });
    expect(await devicePresence("CAM-3", new Date())).toEqual({ state: "online", source: "last_seen" });
    expect(await devicePresence("CAM-3", new Date(Date.now() - 3600_000))).toEqual({ state: "offline", source: "last_seen" });
    expect(await devicePresence("CAM-3", null)).toEqual({ state: "offline", source: "last_seen" });
  });

  it("prefers what the worker recorded (broker connect/disconnect, birth, Last Will, expiry) over the retained message", async () => {
    const { device } = await world();
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      await publisher.publishAsync(`fleetdrop/fleet/${device.serial}/presence`, JSON.stringify({ online: true }), { qos: 1, retain: true });
    } finally {
      await publisher.endAsync();
    }
    expect(await devicePresence(device.serial, null)).toEqual({ state: "online", source: "presence" });
    // The retained birth is stale: the broker crashed and the worker let the presence expire.
    await prisma().device.update({
      where: { id: device.id },
      data: { presenceOnline: false, presenceSince: new Date(), presenceVia: "expired" },
    });
    expect(await devicePresence(device.serial, new Date())).toEqual({ state: "offline", source: "presence" });
  });
});

describe("capture status", () => {
  it("goes waiting → uploading → arrived as the upload carrying the request_id progresses", async () => {
    const { ctx, session, device } = await world();
    const { requestId, presence } = await requestCapture({ ctx, sessionId: session.id, publish, presence: online });
    expect(presence.state).toBe("online");
    expect(sent.at(-1)).toEqual({ type: "capture", request_id: requestId, session_id: session.id });
    expect(await getCaptureStatus({ ctx, requestId })).toMatchObject({
      state: "waiting",
      sessionId: session.id,
      device: device.serial,
      file: null,
    });

    const file = await prisma().file.create({
      data: {
        sessionId: session.id,
        filename: "capture.png",
        objectKey: `sessions/${device.serial}/${session.id}/capture.png`,
        contentType: "image/png",
        sizeLimit: 1_000_000n,
        state: "pending",
        requestId,
        expiresAt: new Date(Date.now() + 3600_000),
      },
      select: { id: true },
    });
    expect((await getCaptureStatus({ ctx, requestId })).state).toBe("uploading");
    await prisma().file.update({
      where: { id: file.id },
      data: { state: "uploaded", size: 1234n, storedContentType: "image/png", uploadedAt: new Date() },
    });
    expect(await getCaptureStatus({ ctx, requestId })).toMatchObject({
      state: "arrived",
      file: { id: file.id, filename: "capture.png", contentType: "image/png", size: "1234" },
    });
  });

  it("times out when nothing arrives, and says offline at once when the device is not connected", async () => {
    const { ctx, session } = await world();
    const waited = await requestCapture({ ctx, sessionId: session.id, publish, presence: online });
    const later = new Date(Date.now() + CAPTURE_TIMEOUT_MS + 1000);
    expect((await getCaptureStatus({ ctx, requestId: waited.requestId, now: later })).state).toBe("timed_out");

    const away = await requestCapture({ ctx, sessionId: session.id, publish, presence: offline });
    expect(away.presence.state).toBe("offline");
    expect((await getCaptureStatus({ ctx, requestId: away.requestId })).state).toBe("offline");
    expect(
      await prisma().auditLog.findFirst({ where: { action: "session.capture", details: { path: ["requestId"], equals: away.requestId } } }),
    ).toMatchObject({
      details: expect.objectContaining({ presence: "offline", presenceSource: "presence", sessionId: session.id }),
    });
  });

  it("keeps capture requests inside their project", async () => {
    const mine = await world();
    const theirs = await world();
    const { requestId } = await requestCapture({ ctx: theirs.ctx, sessionId: theirs.session.id, publish, presence: online });
    await expect(getCaptureStatus({ ctx: mine.ctx, requestId })).rejects.toBeInstanceOf(NotFoundError);
    await expect(getCaptureStatus({ ctx: mine.ctx, requestId: "capture-not-a-uuid" })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("capture from a device's page", () => {
  it("captures into the device's latest open session, and explains when it has none", async () => {
    const { ctx, project, device, session } = await world();
    const newer = await prisma().session.create({
      data: { deviceId: device.id, projectId: project.id, name: "newer", startedAt: new Date(Date.now() + 1000) },
      select: { id: true },
    });
    await prisma().session.create({
      data: { deviceId: device.id, projectId: project.id, name: "closed", state: "closed", startedAt: new Date(Date.now() + 2000) },
    });
    const result = await requestDeviceCapture({ ctx, serial: device.serial, publish, presence: online });
    expect(result.sessionId).toBe(newer.id);
    expect(sent.at(-1)).toMatchObject({ type: "capture", session_id: newer.id });

    await prisma().session.updateMany({ where: { id: { in: [session.id, newer.id] } }, data: { state: "closed" } });
    await expect(requestDeviceCapture({ ctx, serial: device.serial, publish, presence: online })).rejects.toThrow(UserInputError);
    await expect(requestDeviceCapture({ ctx, serial: "NO-SUCH", publish, presence: online })).rejects.toBeInstanceOf(NotFoundError);
  });
});
