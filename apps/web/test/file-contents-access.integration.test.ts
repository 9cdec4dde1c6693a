/**
 * One rule for the bytes of a file: previews (inline content, text and JSON previews),
 * downloads and session zips need the same role, and each read is in the audit log.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CAN, ROLES, hasRole, type TRole } from "@/lib/roles";
import { ForbiddenError } from "@/server/errors";
import { fileResponse } from "@/server/files/file-response";
import { readJsonPreview } from "@/server/files/read-json-preview";
import { readTextPreview } from "@/server/files/read-text-preview";
import { sessionArchiveResponse } from "@/server/files/session-archive";
import { sessionsStore } from "@/server/stores/sessions-store";
import type { TUserProjectContext } from "@/server/auth/project-context";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

let ctxs: Record<TRole, TUserProjectContext>;
let sessionId: number;
let textId: string;
let jsonId: string;

beforeAll(async () => {
  const users = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await makeUser()] as const)));
  const project = await makeProject(ROLES.map((role) => ({ user: users[role]!, role })));
  ctxs = Object.fromEntries(ROLES.map((role) => [role, contextFor(users[role]!, project, role)])) as Record<TRole, TUserProjectContext>;
  const device = await makeDevice(project.id);
  sessionId = (await makeSession(device, project.id)).id;
  for (const [name, body, type] of [
    ["notes.txt", "secret line\n", "text/plain"],
    ["meta.json", '{"secret":true}', "application/json"],
  ] as const) {
    await sessionsStore().put(`sessions/${device.serial}/${sessionId}/${name}`, body, { contentType: type });
  }
  textId = (await makeFile(sessionId, device.serial, "notes.txt", { contentType: "text/plain", size: 12 })).id;
  jsonId = (await makeFile(sessionId, device.serial, "meta.json", { contentType: "application/json", size: 15 })).id;
});

const outcome = (work: Promise<unknown>) =>
  work.then(
    () => "read",
    (error: unknown) => (error instanceof ForbiddenError ? "forbidden" : error),
  );
const reads = (ctx: TUserProjectContext) => ({
  inline: outcome(fileResponse({ ctx, fileId: textId, disposition: "inline", range: null })),
  ranged: outcome(fileResponse({ ctx, fileId: textId, disposition: "inline", range: "bytes=0-3" })),
  download: outcome(fileResponse({ ctx, fileId: textId, disposition: "attachment", range: null })),
  text: outcome(readTextPreview({ ctx, fileId: textId })),
  json: outcome(readJsonPreview({ ctx, fileId: jsonId })),
  zip: outcome(sessionArchiveResponse({ ctx, sessionId })),
});

describe("who may read file contents", () => {
  it.each(ROLES)("%s: previews and downloads alike follow CAN.download", async (role) => {
    const expected = hasRole(role, CAN.download) ? "read" : "forbidden";
    const got = reads(ctxs[role]);
    for (const [kind, result] of Object.entries(got)) expect({ kind, result: await result }).toEqual({ kind, result: expected });
  });

  it("sets the routes that serve contents to the same role", () => {
    const api = path.resolve(import.meta.dirname, "../src/app/api/p/[project]");
    for (const route of ["files/[fileId]/content", "files/[fileId]/download", "files/[fileId]/text", "sessions/[sessionId]/archive"]) {
      expect(readFileSync(path.join(api, route, "route.ts"), "utf8"), route).toMatch(/\{ role: CAN\.download \}/);
    }
  });
});

describe("audit of file contents", () => {
  it("records every download and zip, and previews once per person and file in a while", async () => {
    const member = ctxs.member;
    const count = (action: string, targetId: string) => prisma().auditLog.count({ where: { action, targetId, userId: member.user.id } });
    await fileResponse({ ctx: member, fileId: textId, disposition: "attachment", range: null });
    await fileResponse({ ctx: member, fileId: textId, disposition: "attachment", range: null });
    expect(await count("file.download", textId)).toBeGreaterThanOrEqual(2);

    const views = await count("file.view", textId);
    expect(views).toBeGreaterThanOrEqual(1);
    await fileResponse({ ctx: member, fileId: textId, disposition: "inline", range: "bytes=4-7" });
    await readTextPreview({ ctx: member, fileId: textId });
    expect(await count("file.view", textId)).toBe(views);
    expect(await count("file.view", jsonId)).toBe(1);

    const fresh = await makeUser();
    const ctx = { ...member, user: fresh };
    await fileResponse({ ctx, fileId: jsonId, disposition: "inline", range: null });
    expect(
      await prisma().auditLog.findMany({
        where: { action: "file.view", userId: fresh.id },
        select: { targetId: true, ip: true, actorLabel: true },
      }),
    ).toEqual([{ targetId: jsonId, ip: "127.0.0.1", actorLabel: fresh.email }]);
    expect(
      await prisma().auditLog.count({ where: { action: "session.download", targetId: String(sessionId), userId: member.user.id } }),
    ).toBeGreaterThanOrEqual(1);
  });
});
