/**
 * What the outbox order tests start from: a database of their own with one project and one
 * device, a Prisma client and a pg pool on it. No worker: they call the outbox's SQL directly.
 */
import { createPrismaClient } from "@fleetdrop/db";
import { createPgPool } from "@fleetdrop/db/pool";
import { createTestDatabase } from "@fleetdrop/db/testing";

export const ORDER_DEVICE = "ROBOT-ORDER";

export async function createOutboxFixture(label: string) {
  const db = await createTestDatabase(label);
  const prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  const pool = createPgPool({ databaseUrl: db.url, max: 6 });
  const project = await prisma.project.create({ data: { slug: `p-${label}`, name: label } });
  const device = await prisma.device.create({ data: { serial: ORDER_DEVICE, name: ORDER_DEVICE, projectId: project.id } });
  return {
    prisma,
    pool,
    project,
    device,
    async close() {
      await pool.end();
      await prisma.$disconnect();
      await db.drop();
    },
  };
}

export type TOutboxFixture = Awaited<ReturnType<typeof createOutboxFixture>>;
