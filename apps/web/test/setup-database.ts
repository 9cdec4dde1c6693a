/**
 * Each test file gets its own migrated database (cloned from a template, ~100 ms) and the
 * environment the app's env.ts validates; the app's Prisma client points at that database.
 */
import { afterAll } from "vitest";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const database = await createTestDatabase("web");
const storeDir = await mkdtemp(path.join(tmpdir(), "fleetdrop-web-test-"));
process.env.DATABASE_URL = database.url;
process.env.NEXTAUTH_SECRET = "test-secret-test-secret-test-secret";
process.env.WEBHOOK_SECRET_KEY = "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=";
process.env.NEXTAUTH_URL = "http://127.0.0.1:3000";
process.env.STORAGE_BACKEND = "fs";
process.env.FS_STORE_DIR = storeDir;
process.env.FS_SECRET_ACCESS_KEY = "test-fs-secret-0123456789";

afterAll(async () => {
  const { getPrismaClient } = await import("@fleetdrop/db");
  await getPrismaClient(database.url).$disconnect();
  await database.drop();
  await rm(storeDir, { recursive: true, force: true });
});
