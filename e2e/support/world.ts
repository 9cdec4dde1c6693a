/**
 * The people, projects, devices and files the e2e tests use, seeded through @fleetdrop/db.
 */
import type { TPrismaClient } from "@fleetdrop/db";
import { hashPassword } from "@fleetdrop/db/passwords";
import type { Store } from "@fleetdrop/storage/store";
import { uploadFile } from "./device-upload";
import { demoFiles } from "./sample-files";

export const PASSWORD = "correct-horse-battery";

export type TWorld = {
  users: Record<"admin" | "member" | "viewer" | "outsider", { email: string; password: string }>;
  project: { slug: string; name: string };
  device: { serial: string };
  session: { id: number; name: string };
  other: { slug: string; sessionId: number; fileId: string };
};

export async function seedWorld(prisma: TPrismaClient, store: Store): Promise<TWorld> {
  const hash = await hashPassword(PASSWORD);
  const mk = (email: string, name: string, isAdmin = false) =>
    prisma.user.create({ data: { email, name, isAdmin, passwordHash: hash }, select: { id: true } });
  const admin = await mk("admin@e2e.test", "Ada Admin", true);
  const member = await mk("member@e2e.test", "Max Member");
  const viewer = await mk("viewer@e2e.test", "Vera Viewer");
  const outsider = await mk("outsider@e2e.test", "Otto Outsider");

  const project = await prisma.project.create({ data: { slug: "acme", name: "Acme robots" }, select: { id: true } });
  await prisma.membership.createMany({
    data: [
      { userId: admin.id, projectId: project.id, role: "owner" },
      { userId: member.id, projectId: project.id, role: "member" },
      { userId: viewer.id, projectId: project.id, role: "viewer" },
    ],
  });
  const device = await prisma.device.create({
    data: { serial: "ROBOT-7", name: "Forklift 7", projectId: project.id, lastSeenAt: new Date() },
    select: { id: true },
  });
  await prisma.device.create({ data: { serial: "ROBOT-8", name: "Forklift 8", projectId: project.id }, select: { id: true } });
  const session = await prisma.session.create({
    data: { deviceId: device.id, projectId: project.id, name: "Warehouse run" },
    select: { id: true },
  });
  await prisma.session.create({
    data: {
      deviceId: device.id,
      projectId: project.id,
      name: "Yesterday's run",
      state: "closed",
      startedAt: new Date(Date.now() - 86_400_000),
      endedAt: new Date(),
    },
  });
  for (const file of demoFiles()) {
    await uploadFile({ prisma, store, deviceSerial: "ROBOT-7", sessionId: session.id }, file.filename, file.body, file.contentType);
  }

  const other = await prisma.project.create({ data: { slug: "globex", name: "Globex drones" }, select: { id: true } });
  await prisma.membership.create({ data: { userId: outsider.id, projectId: other.id, role: "owner" } });
  const otherDevice = await prisma.device.create({ data: { serial: "DRONE-1", name: "Drone", projectId: other.id }, select: { id: true } });
  const otherSession = await prisma.session.create({
    data: { deviceId: otherDevice.id, projectId: other.id, name: "Secret flight" },
    select: { id: true },
  });
  const otherFile = await uploadFile(
    { prisma, store, deviceSerial: "DRONE-1", sessionId: otherSession.id },
    "secret.txt",
    "top secret flight log\n",
    "text/plain",
  );

  const user = (email: string) => ({ email, password: PASSWORD });
  return {
    users: {
      admin: user("admin@e2e.test"),
      member: user("member@e2e.test"),
      viewer: user("viewer@e2e.test"),
      outsider: user("outsider@e2e.test"),
    },
    project: { slug: "acme", name: "Acme robots" },
    device: { serial: "ROBOT-7" },
    session: { id: session.id, name: "Warehouse run" },
    other: { slug: "globex", sessionId: otherSession.id, fileId: otherFile.id },
  };
}
