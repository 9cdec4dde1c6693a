import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffDatabaseToSchema } from "../src/migrate";
import { applyMigrations, SCHEMA_PATH } from "../src/schema-engine";
import { createTestDatabase, type TTestDatabase } from "../src/testing";

let db: TTestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("schema");
});

afterAll(async () => {
  await db?.drop();
});

describe("migrations", () => {
  it("leave the database exactly as schema.prisma describes it", async () => {
    expect(await diffDatabaseToSchema(db.url)).toBeNull();
  });

  it("record each migration the way prisma migrate deploy does, and re-applying is a no-op", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name",
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.rolled_back_at).toBeNull();
        expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(await applyMigrations(db.url)).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("are reported as out of date when the schema gains a field the migrations lack", async () => {
    const schema = await readFile(SCHEMA_PATH, "utf8");
    const changed = schema.replace(/(model Device \{\n)/, "$1  firmware String?\n");
    expect(changed).not.toBe(schema);
    const dir = await mkdtemp(path.join(tmpdir(), "fd-schema-"));
    const file = path.join(dir, "schema.prisma");
    await writeFile(file, changed);
    const diff = await diffDatabaseToSchema(db.url, file);
    expect(diff).toContain('ALTER TABLE "devices" ADD COLUMN');
    expect(diff).toContain('"firmware" TEXT');
  });
});
