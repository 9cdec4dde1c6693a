import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TIngestWorker } from "../src/worker";
import { EXPIRY_GRACE_SECONDS } from "../src/db/files";
import { createHarness, rawDevice, type THarness } from "./harness";

let h: THarness;
let worker: TIngestWorker;
let a: Awaited<ReturnType<typeof rawDevice>>;

beforeAll(async () => {
  h = await createHarness("lifecycle");
  worker = await h.startWorker();
  a = await rawDevice(h.broker, "ROBOT-A");
});

afterAll(async () => {
  await a?.close();
  await h?.close();
});

describe("sessions opened and closed by the device", () => {
  it("opens a session, idempotently per request_id, uploads into it, closes it, and refuses uploads afterwards", async () => {
    await a.send("session/open", { name: "mission 12", metadata: { site: "north" }, request_id: "open-1" });
    await a.send("session/open", { name: "mission 12", metadata: { site: "north" }, request_id: "open-1" });
    const first = (await a.next((m) => m.body.request_id === "open-1")).body;
    const again = (await a.next((m) => m.body.request_id === "open-1")).body;
    expect(first).toMatchObject({ success: true, status: 200, name: "mission 12", state: "open", ended_at: null });
    expect(again.session_id).toBe(first.session_id);
    const sessionId = first.session_id as number;
    const row = await h.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
    expect(row.metadata).toEqual({ site: "north" });

    expect(await a.ask("file_upload/request", { session_id: sessionId, filename: "x.bin" })).toMatchObject({ success: true });
    const closed = await a.ask("session/close", { session_id: sessionId });
    expect(closed).toMatchObject({ success: true, session_id: sessionId, state: "closed" });
    expect(closed.ended_at).toMatch(/Z$/);
    // Closing again answers the same (a re-delivered close).
    expect(await a.ask("session/close", { session_id: sessionId })).toMatchObject({
      success: true,
      state: "closed",
      ended_at: closed.ended_at,
    });
    expect(await a.ask("file_upload/request", { session_id: sessionId, filename: "y.bin" })).toMatchObject({
      status: 409,
      code: "session_closed",
    });

    const audit = await h.prisma.auditLog.findMany({ where: { targetId: String(sessionId) }, orderBy: { id: "asc" } });
    expect(audit.map((entry) => entry.action)).toEqual(["session.open", "session.close"]);
    expect(audit[0]).toMatchObject({ actorType: "device", actorLabel: "ROBOT-A" });
  });

  it("names a session when the device does not", async () => {
    const opened = await a.ask("session/open", {});
    expect(opened.name).toMatch(/^Session \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  });

  it("refuses to close another device's session, an unknown session, and bad payloads", async () => {
    expect(await a.ask("session/close", { session_id: h.seed.openB })).toMatchObject({ status: 403, code: "session_not_owned" });
    expect(await a.ask("session/close", { session_id: 987_654 })).toMatchObject({ status: 404, code: "session_not_found" });
    expect(await a.ask("session/close", { session_id: "x" })).toMatchObject({ status: 400, code: "invalid_session_id" });
    expect(await a.ask("session/open", { name: "" })).toMatchObject({ status: 400, code: "invalid_name" });
    expect(await a.ask("session/open", { metadata: "nope" })).toMatchObject({ status: 400, code: "invalid_metadata" });
    const session = await h.prisma.session.findUniqueOrThrow({ where: { id: h.seed.openB } });
    expect(session.state).toBe("open");
  });

  it("refuses both when the project leaves sessions to admins", async () => {
    await h.prisma.project.update({ where: { id: h.seed.projectId }, data: { devicesManageSessions: false } });
    try {
      expect(await a.ask("session/open", { name: "n" })).toMatchObject({ status: 403, code: "device_sessions_disabled" });
      expect(await a.ask("session/close", { session_id: h.seed.openA })).toMatchObject({ status: 403, code: "device_sessions_disabled" });
    } finally {
      await h.prisma.project.update({ where: { id: h.seed.projectId }, data: { devicesManageSessions: true } });
    }
  });
});

describe("completion", () => {
  it("file_upload/complete believes storage, not the device", async () => {
    const form = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "done.txt", content_type: "text/plain" });
    const key = form.object_key as string;
    expect(await a.ask("file_upload/complete", { object_key: key })).toMatchObject({ status: 409, code: "upload_not_found_in_storage" });
    // The object arrives without the endpoint noticing (as with S3 and no event notifications).
    await h.store.put(key, Readable.from([Buffer.from("hello")]), { contentType: "text/plain" });
    const done = await a.ask("file_upload/complete", { object_key: key });
    expect(done).toMatchObject({ success: true, state: "uploaded", size: 5, file_id: form.file_id });
    expect(done.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await h.prisma.file.findUniqueOrThrow({ where: { id: form.file_id as string } })).toMatchObject({ state: "uploaded", size: 5n });
    // Reporting again answers the same.
    expect(await a.ask("file_upload/complete", { object_key: key })).toMatchObject({ success: true, state: "uploaded", size: 5 });
  });

  it("refuses keys of other devices, keys never issued and malformed keys", async () => {
    expect(await a.ask("file_upload/complete", { object_key: `sessions/ROBOT-B/${h.seed.openB}/x` })).toMatchObject({
      status: 400,
      code: "invalid_object_key",
    });
    expect(await a.ask("file_upload/complete", { object_key: `sessions/ROBOT-A/${h.seed.openA}/never-issued.bin` })).toMatchObject({
      status: 404,
      code: "file_not_found",
    });
    expect(await a.ask("file_upload/complete", { object_key: "../../etc/passwd" })).toMatchObject({
      status: 400,
      code: "invalid_object_key",
    });
    expect(await a.ask("file_upload/complete", {})).toMatchObject({ status: 400, code: "invalid_object_key" });
  });

  it("the sweeper records files storage holds and expires forms that were never used", async () => {
    const unused = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "never.bin" });
    const arrived = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "quiet.bin" });
    const fresh = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "fresh.bin" });
    await h.store.put(arrived.object_key as string, Buffer.from("12345678"), { contentType: "application/octet-stream" });
    // Both forms expired long enough ago; the fresh one is not due.
    const past = new Date(Date.now() - (EXPIRY_GRACE_SECONDS + 60) * 1000);
    await h.prisma.file.updateMany({
      where: { id: { in: [unused.file_id as string, arrived.file_id as string] } },
      data: { expiresAt: past, nextCheckAt: past },
    });
    await h.prisma.file.update({ where: { id: arrived.file_id as string }, data: { issuedAt: new Date(Date.now() - 7200_000) } });
    await worker.sweepNow();
    expect(await h.prisma.file.findUniqueOrThrow({ where: { id: unused.file_id as string } })).toMatchObject({ state: "expired" });
    expect(await h.prisma.file.findUniqueOrThrow({ where: { id: arrived.file_id as string } })).toMatchObject({
      state: "uploaded",
      size: 8n,
    });
    expect(await h.prisma.file.findUniqueOrThrow({ where: { id: fresh.file_id as string } })).toMatchObject({ state: "pending" });
    // An expired name can be asked for again: it becomes pending with a fresh form.
    expect(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "never.bin" })).toMatchObject({
      success: true,
      file_id: unused.file_id,
    });
    expect(await h.prisma.file.findUniqueOrThrow({ where: { id: unused.file_id as string } })).toMatchObject({ state: "pending" });
  });
});

describe("operations endpoints", () => {
  it("/healthz is ready with broker and database; /metrics counts outcomes by code", async () => {
    const base = `http://127.0.0.1:${h.httpPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", checks: { broker: { ok: true }, database: { ok: true } } });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/fleetdrop_requests_total\{kind="uploadRequest",outcome="ok",code=""\} [1-9]/);
    expect(text).toMatch(/fleetdrop_requests_total\{kind="uploadRequest",outcome="error",code="session_closed"\} [1-9]/);
    expect(text).toMatch(/fleetdrop_request_duration_seconds_bucket\{le="0.005",kind="uploadRequest"\} \d+/);
    expect(text).toContain("fleetdrop_pending_files");
    expect(text).toMatch(/fleetdrop_broker_connected 1/);
  });
});
