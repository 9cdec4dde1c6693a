import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ROLES, type TRole } from "@/lib/roles";
import { createWithProject } from "@/server/auth/with-project";
import { projectAction } from "@/server/auth/action-client";
import type { TSessionUser } from "@/server/auth/session-user";
import { ForbiddenError, NotFoundError } from "@/server/errors";
import { getSession } from "@/server/sessions/get-session";
import { listSessions } from "@/server/sessions/list-sessions";
import { renameSession } from "@/server/sessions/rename-session";
import { getFile } from "@/server/files/get-file";
import { listFiles } from "@/server/files/list-files";
import { fileResponse } from "@/server/files/file-response";
import { createDevice } from "@/server/devices/create-device";
import { inviteMember } from "@/server/members/invite-member";
import { listAudit } from "@/server/audit/list-audit";
import { ZFileListQuerySchema, ZSessionListQuerySchema, ZAuditListQuerySchema } from "@/lib/list-queries";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

type TWorld = Awaited<ReturnType<typeof buildWorld>>;

async function buildWorld() {
  const users = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await makeUser()] as const))) as Record<
    TRole,
    TSessionUser
  >;
  const outsider = await makeUser();
  const project = await makeProject(ROLES.map((role) => ({ user: users[role], role })));
  const other = await makeProject([{ user: outsider, role: "owner" }]);
  const device = await makeDevice(project.id);
  const otherDevice = await makeDevice(other.id);
  const session = await makeSession(device, project.id, "mission one");
  const otherSession = await makeSession(otherDevice, other.id, "secret mission");
  const file = await makeFile(session.id, device.serial, "logs/system.log");
  const otherFile = await makeFile(otherSession.id, otherDevice.serial, "secret.txt");
  return { users, outsider, project, other, device, session, otherSession, file, otherFile };
}

let world: TWorld;
beforeAll(async () => {
  world = await buildWorld();
});

const EXPECTED: Record<TRole, Record<TRole, number>> = {
  // required role → acting role → status
  viewer: { viewer: 200, member: 200, admin: 200, owner: 200 },
  member: { viewer: 403, member: 200, admin: 200, owner: 200 },
  admin: { viewer: 403, member: 403, admin: 200, owner: 200 },
  owner: { viewer: 403, member: 403, admin: 403, owner: 200 },
};

describe("withProject (route handlers)", () => {
  const call = async (user: TSessionUser | null, required: TRole, project: string) => {
    let ran = false;
    const withProject = createWithProject({ getUser: async () => user });
    const handler = withProject(
      async (_request, { ctx }) => {
        ran = true;
        return Response.json({ project: ctx.project.slug, role: ctx.role });
      },
      { role: required },
    );
    const response = await handler(new Request("http://test/x"), { params: Promise.resolve({ project }) });
    return { status: response.status, ran };
  };

  for (const required of ROLES) {
    it(`requires ${required}: the role matrix holds`, async () => {
      for (const acting of ROLES) {
        const { status, ran } = await call(world.users[acting], required, world.project.slug);
        expect({ acting, status }).toEqual({ acting, status: EXPECTED[required][acting] });
        expect(ran).toBe(status === 200);
      }
    });
  }

  it("answers 401 to signed-out requests without running the handler", async () => {
    expect(await call(null, "viewer", world.project.slug)).toEqual({ status: 401, ran: false });
  });

  it("answers 404 for a project the user is not in, and for one that does not exist", async () => {
    expect(await call(world.outsider, "viewer", world.project.slug)).toEqual({ status: 404, ran: false });
    expect(await call(world.users.owner, "viewer", world.other.slug)).toEqual({ status: 404, ran: false });
    expect(await call(world.users.owner, "viewer", "no-such-project")).toEqual({ status: 404, ran: false });
  });

  it("turns a domain NotFoundError into 404 (a guessed id of another project)", async () => {
    const withProject = createWithProject({ getUser: async () => world.users.owner });
    const handler = withProject(async (_request, { ctx }) => Response.json(await getFile({ ctx, fileId: world.otherFile.id })), {
      role: "viewer",
    });
    const response = await handler(new Request("http://test/x"), { params: Promise.resolve({ project: world.project.slug }) });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("secret");
  });
});

describe("projectAction (server actions)", () => {
  const run = async (user: TSessionUser | null, required: TRole, project: string, input: Record<string, unknown> = { name: "x" }) => {
    let ran = false;
    const action = projectAction(
      { role: required, schema: z.object({ name: z.string().min(1, { error: "Enter a name" }) }) },
      async () => {
        ran = true;
        return { ok: true };
      },
      { getUser: async () => user, getIp: async () => "127.0.0.1" },
    );
    const result = await action(null, { project, ...input });
    return { ok: result.ok, ran, result };
  };

  for (const required of ROLES) {
    it(`requires ${required}: only roles at or above it run the action`, async () => {
      for (const acting of ROLES) {
        const { ok, ran } = await run(world.users[acting], required, world.project.slug);
        expect({ acting, ok }).toEqual({ acting, ok: EXPECTED[required][acting] === 200 });
        expect(ran).toBe(ok);
      }
    });
  }

  it("refuses signed-out users, outsiders and a missing project field", async () => {
    expect((await run(null, "viewer", world.project.slug)).ran).toBe(false);
    expect((await run(world.outsider, "viewer", world.project.slug)).ran).toBe(false);
    const action = projectAction({ role: "viewer", schema: z.object({}) }, async () => ({ ok: true }), {
      getUser: async () => world.users.owner,
      getIp: async () => null,
    });
    expect((await action(null, {})).ok).toBe(false);
  });

  it("returns field errors from the shared schema instead of running", async () => {
    const { ok, ran, result } = await run(world.users.owner, "viewer", world.project.slug, { name: "" });
    expect(ok).toBe(false);
    expect(ran).toBe(false);
    expect(!result.ok && result.fieldErrors).toEqual({ name: "Enter a name" });
  });
});

describe("domain functions refuse by default", () => {
  it("hide other projects' sessions and files as not found", async () => {
    const ctx = contextFor(world.users.owner, world.project, "owner");
    await expect(getSession({ ctx, sessionId: world.otherSession.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(getFile({ ctx, fileId: world.otherFile.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(listFiles({ ctx, sessionId: world.otherSession.id, query: ZFileListQuerySchema.parse({}) })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(getSession({ ctx, sessionId: "1 OR 1=1" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(getFile({ ctx, fileId: "../etc/passwd" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("list only the context's project", async () => {
    const ctx = contextFor(world.users.viewer, world.project, "viewer");
    const list = await listSessions({ ctx, query: ZSessionListQuerySchema.parse({}) });
    expect(list.rows.map((r) => r.id)).toEqual([world.session.id]);
    expect(list.rows[0]).toMatchObject({ files: 1, bytes: "10", deviceSerial: world.device.serial });
  });

  it("let viewers read but not manage, download or read the audit log", async () => {
    const ctx = contextFor(world.users.viewer, world.project, "viewer");
    await expect(getSession({ ctx, sessionId: world.session.id })).resolves.toMatchObject({ name: "mission one" });
    await expect(renameSession({ ctx, sessionId: world.session.id, name: "hijacked" })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(createDevice({ ctx, serial: "VIEWER-DEV", name: "x" })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(fileResponse({ ctx, fileId: world.file.id, disposition: "attachment", range: null })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(listAudit({ ctx, query: ZAuditListQuerySchema.parse({}) })).rejects.toBeInstanceOf(ForbiddenError);
    expect((await prisma().session.findUnique({ where: { id: world.session.id } }))?.name).toBe("mission one");
  });

  it("let admins manage sessions but not members; owners manage members", async () => {
    const admin = contextFor(world.users.admin, world.project, "admin");
    await renameSession({ ctx: admin, sessionId: world.session.id, name: "mission one" });
    await expect(inviteMember({ ctx: admin, email: world.outsider.email, role: "viewer" })).rejects.toBeInstanceOf(ForbiddenError);
    const owner = contextFor(world.users.owner, world.project, "owner");
    await inviteMember({ ctx: owner, email: world.outsider.email, role: "viewer" });
    expect(await prisma().membership.findFirst({ where: { userId: world.outsider.id, projectId: world.project.id } })).toMatchObject({
      role: "viewer",
    });
    await prisma().membership.delete({ where: { userId_projectId: { userId: world.outsider.id, projectId: world.project.id } } });
  });

  it("stop an admin renaming another project's session", async () => {
    const ctx = contextFor(world.users.admin, world.project, "admin");
    await expect(renameSession({ ctx, sessionId: world.otherSession.id, name: "x" })).rejects.toBeInstanceOf(NotFoundError);
    expect((await prisma().session.findUnique({ where: { id: world.otherSession.id } }))?.name).toBe("secret mission");
  });
});
