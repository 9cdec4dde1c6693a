/** Builders for test data, through the same Prisma client the app uses. */
import { getPrismaClient } from "@fleetdrop/db";
import { hashPassword } from "@fleetdrop/db/passwords";
import type { TRole } from "@/lib/roles";
import type { TUserProjectContext } from "@/server/auth/project-context";
import type { TSessionUser } from "@/server/auth/session-user";

export const prisma = () => getPrismaClient(process.env.DATABASE_URL!);

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

export async function makeUser(options: { password?: string; isAdmin?: boolean; email?: string } = {}): Promise<TSessionUser> {
  const email = options.email ?? `${unique("user")}@example.test`;
  const user = await prisma().user.create({
    data: {
      email,
      name: email.split("@")[0]!,
      isAdmin: options.isAdmin ?? false,
      passwordHash: options.password ? await hashPassword(options.password) : null,
    },
    select: { id: true, email: true, name: true, isAdmin: true },
  });
  return user;
}

export async function makeProject(members: { user: TSessionUser; role: TRole }[] = []) {
  const slug = unique("proj");
  const project = await prisma().project.create({ data: { slug, name: `Project ${slug}` }, select: { id: true, slug: true, name: true } });
  for (const m of members) await prisma().membership.create({ data: { userId: m.user.id, projectId: project.id, role: m.role } });
  return project;
}

export async function makeDevice(projectId: string, serial = unique("DEV")) {
  return prisma().device.create({ data: { serial, name: `Robot ${serial}`, projectId }, select: { id: true, serial: true } });
}

export async function makeSession(device: { id: string }, projectId: string, name = "run") {
  return prisma().session.create({ data: { deviceId: device.id, projectId, name }, select: { id: true } });
}

export async function makeFile(
  sessionId: number,
  serial: string,
  filename: string,
  options: { state?: "pending" | "uploaded" | "expired" | "failed"; size?: number; contentType?: string } = {},
) {
  const state = options.state ?? "uploaded";
  return prisma().file.create({
    data: {
      sessionId,
      filename,
      objectKey: `sessions/${serial}/${sessionId}/${filename}`,
      contentType: options.contentType ?? "application/octet-stream",
      sizeLimit: 100n * 1024n * 1024n,
      state,
      size: state === "uploaded" ? BigInt(options.size ?? 10) : null,
      uploadedAt: state === "uploaded" ? new Date() : null,
      expiresAt: new Date(Date.now() + 3600_000),
    },
    select: { id: true },
  });
}

export function contextFor(user: TSessionUser, project: { id: string; slug: string; name: string }, role: TRole): TUserProjectContext {
  return { user, project, role, ip: "127.0.0.1" };
}
