/**
 * The REST API against real PostgreSQL, the fs store (with its download endpoint) and an MQTT
 * broker: token scopes, revoked and expired tokens, another project's ids, paging, filters, bad
 * input, and the audit log of every write. Every JSON answer is checked against the OpenAPI
 * document (api-client.ts).
 */
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { Aedes } from "aedes";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FsStore } from "@fleetdrop/storage/fs";
import { createFsEndpoint, type TFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import { createApiToken, listApiTokens, revokeApiToken } from "@/server/api-tokens/manage-api-tokens";
import { sessionsStore } from "@/server/stores/sessions-store";
import { callApi } from "./api-client";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

let http: Server;
let mqttServer: NetServer;
let broker: Aedes;

const listen = (server: Server | NetServer) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

type TWorld = Awaited<ReturnType<typeof buildWorld>>;
let world: TWorld;

async function buildWorld() {
  const admin = await makeUser();
  const otherAdmin = await makeUser();
  const project = await makeProject([{ user: admin, role: "admin" }]);
  const other = await makeProject([{ user: otherAdmin, role: "admin" }]);
  const adminCtx = contextFor(admin, project, "admin");
  const otherCtx = contextFor(otherAdmin, other, "admin");
  const device = await makeDevice(project.id, `API-ROBOT-${Date.now().toString(36)}`);
  const spare = await makeDevice(project.id, `API-SPARE-${Date.now().toString(36)}`);
  await prisma().device.update({ where: { id: spare.id }, data: { enabled: false } });
  const otherDevice = await makeDevice(other.id, `API-DRONE-${Date.now().toString(36)}`);
  const session = await makeSession(device, project.id, "Warehouse run");
  const otherSession = await makeSession(otherDevice, other.id, "Secret flight");

  const body = "planner started\n";
  await sessionsStore().put(`sessions/${device.serial}/${session.id}/logs/planner.log`, body, { contentType: "text/plain" });
  const file = await makeFile(session.id, device.serial, "logs/planner.log", { contentType: "text/plain", size: Buffer.byteLength(body) });
  await prisma().file.update({ where: { id: file.id }, data: { userData: { mission: 7 } } });
  const pending = await makeFile(session.id, device.serial, "pending.bin", { state: "pending" });
  await sessionsStore().put(`sessions/${otherDevice.serial}/${otherSession.id}/secret.txt`, "top secret\n", { contentType: "text/plain" });
  const otherFile = await makeFile(otherSession.id, otherDevice.serial, "secret.txt", { contentType: "text/plain", size: 11 });

  const token = async (ctx: typeof adminCtx, scope: "read" | "write", expires: "7" | "never" = "never") =>
    createApiToken({ ctx, input: { name: `${scope} token`, scope, expires } });
  const read = await token(adminCtx, "read");
  const write = await token(adminCtx, "write", "7");
  const otherWrite = await token(otherCtx, "write");
  return {
    admin,
    adminCtx,
    project,
    other,
    device,
    spare,
    otherDevice,
    session,
    otherSession,
    file,
    pending,
    otherFile,
    read,
    write,
    otherWrite,
    body,
  };
}

beforeAll(async () => {
  // The app reads its environment on first use: point it at this test's broker and fs endpoint first.
  broker = await Aedes.createBroker();
  mqttServer = createNetServer(broker.handle);
  process.env.MQTT_URL = `mqtt://127.0.0.1:${await listen(mqttServer)}`;
  let endpoint: TFsEndpoint | undefined;
  http = createServer((req, res) => {
    if (!endpoint?.handle(req, res)) res.writeHead(404).end();
  });
  process.env.FS_PUBLIC_URL = `http://127.0.0.1:${await listen(http)}`;
  endpoint = createFsEndpoint({ stores: [sessionsStore() as FsStore] });
  world = await buildWorld();
});

afterAll(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => mqttServer.close(() => resolve()));
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

/** The audit entries of one token (its label names its public prefix). */
const auditBy = (token: string, action: string) =>
  prisma().auditLog.findMany({
    where: { projectId: world.project.id, actorType: "token", action, actorLabel: { endsWith: `(${token.slice(0, 15)})` } },
    orderBy: { id: "asc" },
    select: { actorLabel: true, targetId: true, details: true, userId: true },
  });

describe("tokens", () => {
  it("are shown once and stored as a SHA-256 only, with a recognisable prefix", async () => {
    expect(world.read.token).toMatch(/^fd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const row = await prisma().apiToken.findUniqueOrThrow({ where: { id: world.read.id } });
    expect(JSON.stringify(row)).not.toContain(world.read.token.slice(16));
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    const listed = await listApiTokens({ ctx: world.adminCtx });
    expect(JSON.stringify(listed)).not.toContain(world.read.token.slice(16));
    expect(listed.find((t) => t.id === world.read.id)).toMatchObject({
      displayPrefix: world.read.token.slice(0, 15),
      scope: "read",
      status: "active",
    });
  });

  it("answer 401 problems without a token, with a malformed or unknown one, and for a dashboard cookie alone", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Basic abc" },
      { Authorization: "Bearer fd_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
      { Authorization: `Bearer ${world.read.token.slice(0, -1)}x` },
      { Cookie: "next-auth.session-token=anything", Origin: "http://127.0.0.1:3000" },
    ];
    for (const headers of attempts) {
      const answer = await callApi("listSessions", { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get("content-type")).toBe("application/problem+json");
      expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    const write = await callApi("updateSession", {
      headers: { Cookie: "next-auth.session-token=anything", Origin: "http://127.0.0.1:3000", "Content-Type": "application/json" },
      params: { sessionId: world.session.id },
      body: { name: "cookie" },
    });
    expect(write.status).toBe(401);
  });

  it("refuse revoked and expired tokens (401), and record last use", async () => {
    const doomed = await createApiToken({ ctx: world.adminCtx, input: { name: "doomed", scope: "write", expires: "never" } });
    expect((await callApi("listDevices", { token: doomed.token })).status).toBe(200);
    expect((await prisma().apiToken.findUniqueOrThrow({ where: { id: doomed.id } })).lastUsedAt).not.toBeNull();
    await revokeApiToken({ ctx: world.adminCtx, tokenId: doomed.id });
    expect((await callApi("listDevices", { token: doomed.token })).json).toMatchObject({ status: 401, code: "token_revoked" });

    const old = await createApiToken({
      ctx: world.adminCtx,
      input: { name: "old", scope: "read", expires: "7" },
      now: new Date(Date.now() - 8 * 86_400_000),
    });
    expect((await callApi("listDevices", { token: old.token })).json).toMatchObject({ status: 401, code: "token_expired" });
    expect((await listApiTokens({ ctx: world.adminCtx })).find((t) => t.id === old.id)?.status).toBe("expired");
  });

  it("cannot be managed by a token, nor revoked across projects", async () => {
    const tokenCtx = {
      token: { id: world.write.id, name: "w", prefix: "x", scope: "write" as const },
      project: world.project,
      role: "admin" as const,
    };
    await expect(createApiToken({ ctx: tokenCtx, input: { name: "minted", scope: "write", expires: "never" } })).rejects.toThrow(
      /dashboard/,
    );
    const otherCtx = contextFor(world.admin, world.other, "admin");
    await expect(revokeApiToken({ ctx: otherCtx, tokenId: world.read.id })).rejects.toThrow();
    expect((await callApi("listDevices", { token: world.read.token })).status).toBe(200);
  });
});

describe("scopes", () => {
  it("a read token reads, and is refused every write with 403 insufficient_scope, changing nothing", async () => {
    const token = world.read.token;
    expect((await callApi("getSession", { token, params: { sessionId: world.session.id } })).status).toBe(200);
    const before = await prisma().auditLog.count();
    const writes = [
      await callApi("createSession", { token, body: { device: world.device.serial, name: "nope" } }),
      await callApi("updateSession", { token, params: { sessionId: world.session.id }, body: { state: "closed" } }),
      await callApi("requestCapture", { token, params: { sessionId: world.session.id } }),
      await callApi("sendCommands", {
        token,
        params: { serial: world.device.serial },
        body: { service: "monitor", commands: [{ command: "reboot" }] },
      }),
    ];
    for (const answer of writes) expect(answer.json).toMatchObject({ status: 403, code: "insufficient_scope" });
    expect(await prisma().auditLog.count()).toBe(before);
    expect(await prisma().session.findUniqueOrThrow({ where: { id: world.session.id }, select: { state: true } })).toEqual({
      state: "open",
    });
  });

  it("a read token gets file metadata, a download URL that downloads, and the session zip, all audited", async () => {
    const token = world.read.token;
    const meta = await callApi("getFile", { token, params: { fileId: world.file.id } });
    expect(meta.json).toMatchObject({
      filename: "logs/planner.log",
      state: "uploaded",
      userData: { mission: 7 },
      deviceSerial: world.device.serial,
    });
    expect(meta.json).not.toHaveProperty("objectKey");

    const url = await callApi("getFileDownloadUrl", { token, params: { fileId: world.file.id } });
    expect(url.status).toBe(200);
    const download = await fetch(url.json.url as string);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(world.body);
    expect(new Date(url.json.expiresAt as string).getTime()).toBeGreaterThan(Date.now());
    // The signature covers the path: the URL cannot be bent to another object.
    const bent = (url.json.url as string).replace("planner.log", "secret.txt");
    expect((await fetch(bent)).status).toBe(403);

    const pending = await callApi("getFileDownloadUrl", { token, params: { fileId: world.pending.id } });
    expect(pending.json).toMatchObject({ status: 400, code: "refused" });

    const zip = await callApi("downloadSession", { token, params: { sessionId: world.session.id } });
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-type")).toBe("application/zip");
    expect(new TextDecoder().decode(unzipSync(new Uint8Array(zip.bytes!))["logs/planner.log"])).toBe(world.body);

    const downloads = await auditBy(world.read.token, "file.download");
    expect(downloads.at(-1)).toMatchObject({
      actorLabel: `API token read token (${world.read.token.slice(0, 15)})`,
      userId: null,
      targetId: world.file.id,
    });
    expect(await auditBy(world.read.token, "session.download")).toHaveLength(1);
  });

  it("a write token opens, renames, closes, reopens sessions, captures, sends commands; each write is audited as the token", async () => {
    const token = world.write.token;
    const label = `API token write token (${world.write.token.slice(0, 15)})`;
    const created = await callApi("createSession", { token, body: { device: world.device.serial, name: "API run" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: "API run", state: "open", device: { serial: world.device.serial } });
    const sessionId = created.json.id as number;

    const renamed = await callApi("updateSession", { token, params: { sessionId }, body: { name: "API run 2", state: "closed" } });
    expect(renamed.json).toMatchObject({ name: "API run 2", state: "closed" });
    expect(renamed.json.endedAt).not.toBeNull();
    const closedCapture = await callApi("requestCapture", { token, params: { sessionId } });
    expect(closedCapture.json).toMatchObject({ status: 400, code: "refused" });
    expect((await callApi("updateSession", { token, params: { sessionId }, body: { state: "open" } })).json).toMatchObject({
      state: "open",
    });

    const capture = await callApi("requestCapture", { token, params: { sessionId } });
    expect(capture.status).toBe(202);
    expect(capture.json).toMatchObject({ sessionId, presence: { state: "offline" } });
    const status = await callApi("getCapture", { token: world.read.token, params: { requestId: capture.json.requestId as string } });
    expect(status.json).toMatchObject({ requestId: capture.json.requestId, sessionId, state: "offline", file: null });

    const sent = await callApi("sendCommands", {
      token,
      params: { serial: world.device.serial },
      body: { service: "monitor", commands: [{ command: "uptime" }, { command: "df -h" }] },
    });
    expect(sent.status).toBe(202);
    expect(sent.json).toMatchObject({ notified: true, objectKey: `incoming/${world.device.serial}/monitor/commands.json` });
    const history = await callApi("listCommands", { token: world.read.token, params: { serial: world.device.serial } });
    expect(history.json.items?.[0]).toMatchObject({
      kind: "sent",
      by: label,
      service: "monitor",
      commands: [{ command: "uptime" }, { command: "df -h" }],
    });

    for (const action of ["session.create", "session.rename", "session.close", "session.open", "session.capture", "device.commands"]) {
      const rows = await auditBy(world.write.token, action);
      expect(rows.length, action).toBeGreaterThan(0);
      expect(
        rows.every((row) => row.actorLabel === label && row.userId === null),
        action,
      ).toBe(true);
    }
  });
});

describe("another project's ids", () => {
  it("are 404 for every endpoint, with nothing of theirs in the answer, and change nothing", async () => {
    const token = world.write.token;
    const answers = [
      await callApi("getSession", { token, params: { sessionId: world.otherSession.id } }),
      await callApi("updateSession", { token, params: { sessionId: world.otherSession.id }, body: { name: "pwned", state: "closed" } }),
      await callApi("listFiles", { token, params: { sessionId: world.otherSession.id } }),
      await callApi("downloadSession", { token, params: { sessionId: world.otherSession.id } }),
      await callApi("requestCapture", { token, params: { sessionId: world.otherSession.id } }),
      await callApi("getFile", { token, params: { fileId: world.otherFile.id } }),
      await callApi("getFileDownloadUrl", { token, params: { fileId: world.otherFile.id } }),
      await callApi("listCommands", { token, params: { serial: world.otherDevice.serial } }),
      await callApi("sendCommands", {
        token,
        params: { serial: world.otherDevice.serial },
        body: { service: "monitor", commands: [{ command: "rm -rf /" }] },
      }),
      await callApi("getSession", { token, params: { sessionId: "1 OR 1=1" } }),
      await callApi("getFile", { token, params: { fileId: "../../etc/passwd" } }),
    ];
    for (const answer of answers) {
      expect(answer.json).toEqual({ status: 404, code: "not_found", message: "Not found" });
    }
    const created = await callApi("createSession", { token, body: { device: world.otherDevice.serial, name: "pwned" } });
    expect(created.json).toMatchObject({ status: 400, code: "refused" });
    expect(await prisma().session.findUniqueOrThrow({ where: { id: world.otherSession.id }, select: { name: true, state: true } })).toEqual(
      {
        name: "Secret flight",
        state: "open",
      },
    );
    const lists = [
      await callApi("listSessions", { token }),
      await callApi("listDevices", { token }),
      await callApi("listSessions", { token, query: { device: world.otherDevice.serial } }),
    ];
    for (const list of lists) expect(JSON.stringify(list.json)).not.toMatch(/Secret flight|API-DRONE/);
    // And the other project's token sees its own, not ours.
    const theirs = await callApi("listSessions", { token: world.otherWrite.token });
    expect(theirs.json.items?.map((s) => s.name)).toEqual(["Secret flight"]);
  });
});

describe("lists", () => {
  it("page sessions (50 a page) with totals, and filter by state, device, name and dates", async () => {
    const device = await makeDevice(world.project.id, `API-PAGER-${Date.now().toString(36)}`);
    for (let i = 0; i < 57; i++) await makeSession(device, world.project.id, `batch ${String(i).padStart(2, "0")}`);
    const token = world.read.token;
    const page1 = await callApi("listSessions", { token, query: { device: device.serial, sort: "name", dir: "asc" } });
    expect(page1.json).toMatchObject({ page: 1, pageSize: 50, total: 57 });
    expect(page1.json.items).toHaveLength(50);
    expect(page1.json.items?.[0]).toMatchObject({ name: "batch 00", deviceSerial: device.serial, files: 0, bytes: "0" });
    const page2 = await callApi("listSessions", { token, query: { device: device.serial, sort: "name", dir: "asc", page: "2" } });
    expect(page2.json.items?.map((s) => s.name)).toEqual([
      "batch 50",
      "batch 51",
      "batch 52",
      "batch 53",
      "batch 54",
      "batch 55",
      "batch 56",
    ]);
    expect((await callApi("listSessions", { token, query: { q: "batch 1" } })).json.total).toBe(10);
    expect((await callApi("listSessions", { token, query: { device: device.serial, state: "closed" } })).json.total).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect((await callApi("listSessions", { token, query: { device: device.serial, from: today, to: today } })).json.total).toBe(57);
    expect((await callApi("listSessions", { token, query: { device: device.serial, to: "2020-01-01" } })).json.total).toBe(0);
  });

  it("filter and page devices", async () => {
    const token = world.read.token;
    const enabled = await callApi("listDevices", { token, query: { enabled: "false" } });
    expect(enabled.json.items?.map((d) => d.serial)).toEqual([world.spare.serial]);
    const found = await callApi("listDevices", { token, query: { q: world.device.serial.toLowerCase() } });
    expect(found.json).toMatchObject({ total: 1, items: [{ serial: world.device.serial, enabled: true, authMode: "password" }] });
    expect((await callApi("listDevices", { token, query: { page: "99" } })).json).toMatchObject({ items: [], page: 99 });
  });

  it("list a session's files by folder, state and search", async () => {
    const token = world.read.token;
    const root = await callApi("listFiles", { token, params: { sessionId: world.session.id } });
    expect(root.json).toMatchObject({
      path: "",
      folders: [{ name: "logs", path: "logs/", files: 1 }],
      total: 1,
      counts: { all: 2, pending: 1, uploaded: 1 },
    });
    expect(root.json.items?.map((f) => f.filename)).toEqual(["pending.bin"]);
    const logs = await callApi("listFiles", { token, params: { sessionId: world.session.id }, query: { path: "logs/" } });
    expect(logs.json.items?.map((f) => f.filename)).toEqual(["logs/planner.log"]);
    const uploaded = await callApi("listFiles", {
      token,
      params: { sessionId: world.session.id },
      query: { q: "plan", state: "uploaded" },
    });
    expect(uploaded.json.items?.map((f) => f.filename)).toEqual(["logs/planner.log"]);
  });
});

describe("bad input", () => {
  it("is a 400 problem naming the field, never a 500, and changes nothing", async () => {
    const token = world.write.token;
    const sessionId = world.session.id;
    const cases = [
      await callApi("listSessions", { token, query: { page: "abc" } }),
      await callApi("listSessions", { token, query: { page: "0" } }),
      await callApi("listSessions", { token, query: { state: "bogus" } }),
      await callApi("listSessions", { token, query: { from: "2026-02-31" } }),
      await callApi("listSessions", { token, query: { sort: "password" } }),
      await callApi("listSessions", { token, query: { limit: "10" } }),
      await callApi("listDevices", { token, query: { enabled: "maybe" } }),
      await callApi("listFiles", { token, params: { sessionId }, query: { path: "../" } }),
      await callApi("listFiles", { token, params: { sessionId }, query: { kind: "exe" } }),
      await callApi("updateSession", { token, params: { sessionId }, body: {} }),
      await callApi("updateSession", { token, params: { sessionId }, body: { name: "" } }),
      await callApi("updateSession", { token, params: { sessionId }, body: { name: "x".repeat(201) } }),
      await callApi("updateSession", { token, params: { sessionId }, body: { state: "deleted" } }),
      await callApi("updateSession", { token, params: { sessionId }, body: { name: "ok", admin: true } }),
      await callApi("updateSession", { token, params: { sessionId }, body: ["name"] }),
      await callApi("updateSession", { token, params: { sessionId }, body: null }),
      await callApi("updateSession", { token, params: { sessionId }, rawBody: "{not json" }),
      await callApi("createSession", { token, body: { device: "../x", name: "n" } }),
      await callApi("sendCommands", { token, params: { serial: world.device.serial }, body: { service: "monitor", commands: [] } }),
      await callApi("sendCommands", {
        token,
        params: { serial: world.device.serial },
        body: { service: "../etc", commands: [{ command: "x" }] },
      }),
      await callApi("sendCommands", {
        token,
        params: { serial: world.device.serial },
        body: { service: "monitor", commands: Array.from({ length: 101 }, () => ({ command: "x" })) },
      }),
    ];
    for (const answer of cases) {
      expect(answer.status, JSON.stringify(answer.json)).toBe(400);
      expect(answer.json.code).toMatch(/^invalid_(request|json)$/);
      expect(answer.json.message).toEqual(expect.any(String));
    }
    expect(cases[0]!.json.issues).toEqual([{ path: "query.page", message: expect.any(String) }]);
    expect(cases[13]!.json.issues).toEqual([{ path: "body", message: expect.stringContaining("admin") }]);

    const wrongType = await callApi("updateSession", {
      token,
      params: { sessionId },
      rawBody: "name=x",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(wrongType.json).toMatchObject({ status: 415, code: "unsupported_media_type" });
    const huge = await callApi("updateSession", { token, params: { sessionId }, body: { name: "x".repeat(70_000) } });
    expect(huge.json).toMatchObject({ status: 413, code: "body_too_large" });
    expect(await prisma().session.findUniqueOrThrow({ where: { id: sessionId }, select: { name: true, state: true } })).toEqual({
      name: "Warehouse run",
      state: "open",
    });
  });
});
