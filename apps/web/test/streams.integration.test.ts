/**
 * Chunk streams in the dashboard: a project's chunk streams with their outbox counts, parked chunks
 * with the reason the worker recorded, retry/discard of parked chunks, creating streams — all
 * for admins of that project only.
 */
import { describe, expect, it } from "vitest";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { ZStreamFormSchema } from "@/lib/stream-forms";
import { listChunkStreams } from "@/server/streams/list-chunk-streams";
import { listParkedChunks } from "@/server/streams/list-parked-chunks";
import { createChunkStream, resolveParkedChunks, setChunkStreamEnabled } from "@/server/streams/manage-chunk-streams";
import { contextFor, makeDevice, makeProject, makeUser, prisma } from "./fixtures";

async function world() {
  const admin = await makeUser();
  const viewer = await makeUser();
  const project = await makeProject([
    { user: admin, role: "admin" },
    { user: viewer, role: "viewer" },
  ]);
  const device = await makeDevice(project.id);
  const ctx = contextFor(admin, project, "admin");
  const { id: streamId } = await createChunkStream({
    ctx,
    config: {
      name: "crash",
      url_template: "https://crash.example.com/api/{device_id}/chunks",
      headers: { Authorization: "Bearer secret-key" },
      enabled: true,
      max_attempts: 3,
      timeout_ms: 5000,
    },
  });
  const chunk = (state: "pending" | "parked", extra: Record<string, unknown> = {}) =>
    prisma().chunk.create({ data: { streamId, deviceId: device.id, payload: Buffer.from("0123456789"), state, ...extra } });
  return { project, device, streamId, chunk, admin: ctx, viewer: contextFor(viewer, project, "viewer") };
}

describe("chunk streams in the dashboard", () => {
  it("lists streams with waiting, delivered and parked counts and the last problem, never header values", async () => {
    const { admin, streamId, device, chunk } = await world();
    await chunk("pending");
    await chunk("parked", {
      attempts: 3,
      lastStatus: 502,
      lastError: "HTTP 502: upstream down (gave up after 3 attempts)",
      parkedAt: new Date(),
    });
    await prisma().chunkLane.create({
      data: {
        streamId,
        deviceId: device.id,
        deliveredCount: 41n,
        lastError: "HTTP 503: busy",
        lastAttemptAt: new Date(),
        nextAttemptAt: new Date(Date.now() + 60_000),
      },
    });
    const [stream] = await listChunkStreams({ ctx: admin });
    expect(stream).toMatchObject({
      name: "crash",
      headerNames: ["Authorization"],
      pending: 1,
      parked: 1,
      delivered: 41,
      lastError: "HTTP 503: busy",
      backingOff: 1,
      enabled: true,
      maxAttempts: 3,
    });
    expect(JSON.stringify(stream)).not.toContain("secret-key");
  });

  it("shows parked chunks with their reason, device, size and attempts", async () => {
    const { admin, device, chunk } = await world();
    await chunk("pending");
    await chunk("parked", { attempts: 1, lastStatus: 422, lastError: "HTTP 422: schema says no", parkedAt: new Date() });
    const parked = await listParkedChunks({ ctx: admin });
    expect(parked.total).toBe(1);
    expect(parked.rows[0]).toMatchObject({
      stream: "crash",
      device: device.serial,
      bytes: 10,
      attempts: 1,
      lastStatus: 422,
      reason: "HTTP 422: schema says no",
    });
  });

  it("retries parked chunks (attempts reset, lane due now) or discards them, audited", async () => {
    const { admin, streamId, device, chunk } = await world();
    await prisma().chunkLane.create({ data: { streamId, deviceId: device.id, nextAttemptAt: new Date(Date.now() + 3_600_000) } });
    const parked = await chunk("parked", { attempts: 3, lastError: "x", parkedAt: new Date() });
    expect(await resolveParkedChunks({ ctx: admin, streamId, action: "retry" })).toBe(1);
    expect(await prisma().chunk.findUniqueOrThrow({ where: { id: parked.id } })).toMatchObject({
      state: "pending",
      attempts: 0,
      parkedAt: null,
    });
    const lane = await prisma().chunkLane.findUniqueOrThrow({ where: { streamId_deviceId: { streamId, deviceId: device.id } } });
    expect(lane.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    await prisma().chunk.update({ where: { id: parked.id }, data: { state: "parked" } });
    await chunk("pending");
    expect(await resolveParkedChunks({ ctx: admin, streamId, action: "discard" })).toBe(1);
    expect(await prisma().chunk.count({ where: { streamId } })).toBe(1);
    const audit = await prisma().auditLog.findMany({
      where: { projectId: admin.project.id },
      orderBy: { id: "asc" },
      select: { action: true },
    });
    expect(audit.map((a) => a.action)).toEqual(["stream.create", "stream.parked_retry", "stream.parked_discard"]);
  });

  it("refuses viewers, and another project's stream is not found", async () => {
    const { viewer, admin, streamId } = await world();
    await expect(listChunkStreams({ ctx: viewer })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(listParkedChunks({ ctx: viewer })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(resolveParkedChunks({ ctx: viewer, streamId, action: "retry" })).rejects.toBeInstanceOf(ForbiddenError);
    const other = await world();
    await expect(resolveParkedChunks({ ctx: admin, streamId: other.streamId, action: "discard" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(setChunkStreamEnabled({ ctx: admin, streamId: other.streamId, enabled: false })).rejects.toBeInstanceOf(NotFoundError);
    expect((await listChunkStreams({ ctx: admin })).map((s) => s.id)).toEqual([streamId]);
  });

  it("validates the new-stream form field by field, and refuses a second stream of the same name", async () => {
    const { admin } = await world();
    const errors = (form: Record<string, unknown>) => {
      const parsed = ZStreamFormSchema.safeParse(form);
      return parsed.success ? {} : Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message]));
    };
    expect(errors({ name: "response", url_template: "https://x/{device_id}" })).toHaveProperty("name");
    expect(errors({ name: "ok", url_template: "ftp://x" })).toEqual({ url_template: "Use an http:// or https:// URL" });
    expect(errors({ name: "ok", url_template: "https://x/{serial}" }).url_template).toMatch(/unknown placeholder \{serial\}/);
    expect(errors({ name: "ok", url_template: "https://x", headers: "no colon here" })).toEqual({
      headers: "Line 1: write headers as Name: value",
    });
    expect(errors({ name: "ok", url_template: "https://x", headers: "Host: evil" }).headers).toMatch(/Host: Host is set by the forwarder/);
    expect(
      ZStreamFormSchema.parse({
        name: "metrics",
        url_template: "https://m.example/{stream}",
        headers: "X-Key: k\n\nX-Dev: {device_id}",
        max_attempts: "5",
        timeout_ms: "2000",
      }),
    ).toEqual({
      name: "metrics",
      url_template: "https://m.example/{stream}",
      headers: { "X-Key": "k", "X-Dev": "{device_id}" },
      enabled: true,
      max_attempts: 5,
      timeout_ms: 2000,
    });
    await expect(
      createChunkStream({ ctx: admin, config: ZStreamFormSchema.parse({ name: "crash", url_template: "https://x" }) }),
    ).rejects.toBeInstanceOf(UserInputError);
  });
});
