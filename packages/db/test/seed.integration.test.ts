import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type TPrismaClient } from "../src/client";
import { verifyPassword } from "../src/passwords";
import { seedDemo } from "../src/seed";
import { createTestDatabase, type TTestDatabase } from "../src/testing";

let db: TTestDatabase;
let prisma: TPrismaClient;

beforeAll(async () => {
  db = await createTestDatabase("seed");
  prisma = createPrismaClient({ databaseUrl: db.url });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe("seedDemo", () => {
  it("creates an admin, a project, a device with a password and an open session, once", async () => {
    const options = { adminEmail: "Admin@Example.COM", adminPassword: "pw-admin", devicePassword: "pw-device" };
    const first = await seedDemo(prisma, options);
    expect(first).toMatchObject({ adminEmail: "admin@example.com", adminCreated: true, deviceCreated: true, deviceSerial: "DEMO-001" });

    const second = await seedDemo(prisma, { ...options, adminPassword: "other", devicePassword: "other" });
    expect(second).toMatchObject({ adminCreated: false, deviceCreated: false, sessionId: first.sessionId, projectId: first.projectId });

    expect(await prisma.user.count()).toBe(1);
    expect(await prisma.device.count()).toBe(1);
    expect(await prisma.session.count({ where: { state: "open" } })).toBe(1);

    const admin = await prisma.user.findUniqueOrThrow({ where: { email: "admin@example.com" }, omit: { passwordHash: false } });
    expect(admin.isAdmin).toBe(true);
    expect(await verifyPassword("pw-admin", admin.passwordHash)).toBe(true);
    const device = await prisma.device.findUniqueOrThrow({ where: { serial: "DEMO-001" }, omit: { passwordHash: false } });
    expect(await verifyPassword("pw-device", device.passwordHash)).toBe(true);
    // The dashboard shows when the device's credentials were issued: at its creation here.
    expect(device.credentialsIssuedAt).toBeInstanceOf(Date);

    // Secret columns stay out of ordinary reads.
    const plain = await prisma.device.findUniqueOrThrow({ where: { serial: "DEMO-001" } });
    expect(plain).not.toHaveProperty("passwordHash");
  });
});
