/**
 * Seeds what a first start needs: an administrator, a demo project with one device and an
 * open session. Idempotent: running it again changes nothing that already exists (an admin
 * who changed their password keeps it).
 */
import type { TAuditDetails } from "@fleetdrop/shared/audit";
import type { TPrismaClient } from "./client";
import { hashPassword } from "./passwords";

export type TSeedOptions = {
  adminEmail: string;
  adminPassword: string;
  deviceSerial?: string;
  devicePassword: string;
  projectSlug?: string;
};

export type TSeedResult = {
  adminEmail: string;
  adminCreated: boolean;
  projectId: string;
  projectSlug: string;
  deviceSerial: string;
  deviceCreated: boolean;
  sessionId: number;
};

export async function seedDemo(prisma: TPrismaClient, options: TSeedOptions): Promise<TSeedResult> {
  const adminEmail = options.adminEmail.trim().toLowerCase();
  const deviceSerial = options.deviceSerial ?? "DEMO-001";
  const projectSlug = options.projectSlug ?? "demo";

  let admin = await prisma.user.findUnique({ where: { email: adminEmail } });
  const adminCreated = !admin;
  admin ??= await prisma.user.create({
    data: {
      email: adminEmail,
      name: "Administrator",
      isAdmin: true,
      passwordHash: await hashPassword(options.adminPassword),
    },
  });

  const project = await prisma.project.upsert({
    where: { slug: projectSlug },
    update: {},
    create: { slug: projectSlug, name: "Demo fleet" },
  });

  await prisma.membership.upsert({
    where: { userId_projectId: { userId: admin.id, projectId: project.id } },
    update: {},
    create: { userId: admin.id, projectId: project.id, role: "owner" },
  });

  let device = await prisma.device.findUnique({ where: { serial: deviceSerial } });
  const deviceCreated = !device;
  device ??= await prisma.device.create({
    data: {
      serial: deviceSerial,
      name: "Demo robot",
      projectId: project.id,
      authMode: "password",
      passwordHash: await hashPassword(options.devicePassword),
      credentialsIssuedAt: new Date(),
    },
  });

  const session =
    (await prisma.session.findFirst({
      where: { deviceId: device.id, state: "open" },
      orderBy: { id: "asc" },
    })) ??
    (await prisma.session.create({
      data: { deviceId: device.id, projectId: device.projectId, name: "Demo session" },
    }));

  if (adminCreated || deviceCreated) {
    await prisma.auditLog.create({
      data: {
        projectId: project.id,
        actorType: "system",
        actorLabel: "seed",
        action: "project.seed",
        targetType: "project",
        targetId: project.id,
        details: { device: deviceSerial, session: session.id } satisfies TAuditDetails<"project.seed">,
      },
    });
  }

  return {
    adminEmail,
    adminCreated,
    projectId: project.id,
    projectSlug,
    deviceSerial,
    deviceCreated,
    sessionId: session.id,
  };
}
