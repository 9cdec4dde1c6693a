/**
 * The overview's figures against real PostgreSQL: the files_rollup trigger keeps arrivals and
 * stored totals in step with every change of a file row (insert, upload, re-upload, delete,
 * a session deleted), and getOverview reads them, the refusal counts, presence and backlogs.
 */
import { describe, expect, it } from "vitest";
import { ForbiddenError } from "@/server/errors";
import { getOverview } from "@/server/overview/get-overview";
import { listPresence } from "@/server/devices/list-presence";
import { contextFor, makeDevice, makeProject, makeSession, makeUser, prisma } from "./fixtures";

const HOUR = 3_600_000;

async function file(sessionId: number, filename: string, state: "pending" | "uploaded", size: number | null, uploadedAt: Date | null) {
  return prisma().file.create({
    data: {
      sessionId,
      filename,
      objectKey: `k/${sessionId}/${filename}`,
      contentType: "application/octet-stream",
      sizeLimit: 1n << 30n,
      state,
      size: size === null ? null : BigInt(size),
      uploadedAt,
      expiresAt: new Date(Date.now() + HOUR),
    },
    select: { id: true },
  });
}

async function world() {
  const user = await makeUser();
  const project = await makeProject([{ user, role: "viewer" }]);
  const a = await makeDevice(project.id);
  const b = await makeDevice(project.id);
  const sa = await makeSession(a, project.id);
  const sb = await makeSession(b, project.id);
  return { ctx: contextFor(user, project, "viewer"), project, a, b, sa, sb };
}

describe("overview", () => {
  it("counts arrivals per hour and device and stored bytes per session, following every change of a file", async () => {
    const { ctx, a, b, sa, sb } = await world();
    const now = new Date();
    const earlier = new Date(now.getTime() - 5 * HOUR);
    await file(sa.id, "one.bin", "uploaded", 100, now);
    await file(sa.id, "two.bin", "uploaded", 200, earlier);
    const pending = await file(sb.id, "later.bin", "pending", null, null);
    await file(sb.id, "old.bin", "uploaded", 5, new Date(now.getTime() - 40 * 24 * HOUR));

    let o = await getOverview({ ctx, query: { range: "24h" }, now });
    expect(o.bucket).toBe("hour");
    expect(o.arrivals.reduce((n, x) => n + x.files, 0)).toBe(2);
    expect(o.arrivals.reduce((n, x) => n + x.bytes, 0)).toBe(300);
    expect(o.topDevices).toEqual([{ serial: a.serial, files: 2, bytes: 300 }]);
    expect(o.storage[0]).toEqual({ store: "sessions", bytes: 305, objects: 3 });

    // The pending file arrives: an arrival of B, and B's session holds it.
    await prisma().file.update({ where: { id: pending.id }, data: { state: "uploaded", size: 1000n, uploadedAt: now } });
    o = await getOverview({ ctx, query: { range: "24h" }, now });
    expect(o.topDevices).toEqual([
      { serial: b.serial, files: 1, bytes: 1000 },
      { serial: a.serial, files: 2, bytes: 300 },
    ]);
    expect(o.storage[0]).toMatchObject({ bytes: 1305, objects: 4 });
    // 90 days include the old file; by day.
    const long = await getOverview({ ctx, query: { range: "90d" }, now });
    expect(long.bucket).toBe("day");
    expect(long.arrivals.reduce((n, x) => n + x.files, 0)).toBe(4);

    // Deleting a file and a whole session takes their bytes out of storage, not out of arrivals.
    await prisma().file.delete({ where: { sessionId_filename: { sessionId: sa.id, filename: "two.bin" } } });
    await prisma().session.delete({ where: { id: sb.id } });
    o = await getOverview({ ctx, query: { range: "24h" }, now });
    expect(o.storage[0]).toMatchObject({ bytes: 100, objects: 1 });
    expect(o.arrivals.reduce((n, x) => n + x.files, 0)).toBe(3);
    expect((await prisma().session.findUniqueOrThrow({ where: { id: sa.id } })).storedBytes).toBe(100n);
  });

  it("reads refusals by code, presence counts and the latest backlog each agent reported", async () => {
    const { ctx, project, a, b } = await world();
    const hour = new Date();
    hour.setUTCMinutes(0, 0, 0);
    await prisma().requestRefusal.createMany({
      data: [
        { deviceId: a.id, projectId: project.id, hour, code: "rate_limited", count: 7 },
        { deviceId: b.id, projectId: project.id, hour, code: "rate_limited", count: 1 },
        { deviceId: b.id, projectId: project.id, hour, code: "session_closed", count: 2 },
        { deviceId: b.id, projectId: project.id, hour: new Date(hour.getTime() - 100 * 24 * HOUR), code: "file_exists", count: 50 },
      ],
    });
    await prisma().device.update({ where: { id: a.id }, data: { presenceOnline: true, presenceSince: new Date(), presenceVia: "broker" } });
    await prisma().device.update({
      where: { id: b.id },
      data: { presenceOnline: false, presenceSince: new Date(), presenceVia: "expired", lastSeenAt: new Date(Date.now() - 48 * HOUR) },
    });
    const report = (serial: string, backlog: Record<string, number | string>, at: Date) =>
      prisma().auditLog.create({
        data: {
          projectId: project.id,
          actorType: "device",
          actorLabel: serial,
          action: "device.status_report",
          targetType: "service",
          targetId: `${serial}/agent`,
          details: { service: "agent", report: { general_status: "ok", commands: [], backlog } },
          at,
        },
      });
    await report(a.serial, { files: 9, bytes: 9000 }, new Date(Date.now() - 2 * HOUR));
    await report(a.serial, { files: 3, bytes: 3000 }, new Date());
    await report(b.serial, { files: "many" }, new Date());

    const o = await getOverview({ ctx, query: { range: "7d" } });
    expect(o.refusals).toEqual([
      { code: "rate_limited", count: 8 },
      { code: "session_closed", count: 2 },
    ]);
    expect(o.devices).toEqual({ total: 2, online: 1, offline: 1, unknown: 0, seen24h: 2 });
    expect(o.backlogs).toEqual([{ serial: a.serial, files: 3, bytes: 3000, at: expect.any(String) }]);
    expect(await listPresence({ ctx })).toEqual({
      [a.serial]: { online: true, since: expect.any(String), via: "broker" },
      [b.serial]: { online: false, since: expect.any(String), via: "expired" },
    });
  });

  it("shows one project's figures only, to its members only", async () => {
    const { ctx } = await world();
    const other = await world();
    await file(other.sa.id, "theirs.bin", "uploaded", 123, new Date());
    const o = await getOverview({ ctx, query: { range: "24h" } });
    expect(o.arrivals).toEqual([]);
    expect(o.storage[0]).toMatchObject({ bytes: 0, objects: 0 });
    const outsider = contextFor(await makeUser(), other.project, "viewer");
    outsider.role = null as never;
    await expect(getOverview({ ctx: outsider, query: { range: "24h" } })).rejects.toBeInstanceOf(ForbiddenError);
  });
});
