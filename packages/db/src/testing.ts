/**
 * Test databases: each test file gets its own database, cloned from a migrated template
 * (migrating once per schema version keeps a fresh database at ~100 ms).
 *
 * The server is `FLEETDROP_TEST_PG_URL` (default: the local PostgreSQL on 127.0.0.1:5432).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { ADVISORY_LOCK } from "./advisory-locks";
import { withDatabase } from "./database-url";
import { applyMigrations, loadMigrationList, MIGRATIONS_DIR } from "./schema-engine";

export const TEST_SERVER_URL =
  // The one place outside an env.ts that reads the environment: test infrastructure.
  process.env.FLEETDROP_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

async function migrationsHash(): Promise<string> {
  const list = await loadMigrationList();
  const hash = createHash("sha256");
  for (const dir of list.migrationDirectories) {
    hash.update(dir.path);
    hash.update(await readFile(path.join(MIGRATIONS_DIR, dir.path, "migration.sql")));
  }
  return hash.digest("hex").slice(0, 12);
}

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function ensureTemplate(serverUrl: string): Promise<string> {
  const template = `fleetdrop_template_${await migrationsHash()}`;
  await withAdmin(serverUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK.testTemplate]);
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (exists.rowCount) return;
      // Templates of other schema versions may be in use by another checkout's run on the same
      // server: only templates made hours ago go, with the test databases of interrupted runs.
      const stale = await admin.query<{ datname: string; note: string | null }>(
        `SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database
         WHERE datname LIKE 'fleetdrop\\_template\\_%' OR datname LIKE 'fleetdrop\\_test\\_%'`,
      );
      for (const { datname, note } of stale.rows) {
        const created = datname.startsWith("fleetdrop_template_")
          ? Number(/^created (\d+)$/.exec(note ?? "")?.[1] ?? 0)
          : Number(/_(\d{13})_/.exec(datname)?.[1] ?? 0);
        if (Date.now() - created > STALE_AFTER_MS) {
          await admin.query(`DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`);
        }
      }
      const building = `${template}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${quote(building)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${quote(building)}`);
      await applyMigrations(withDatabase(serverUrl, building));
      await admin.query(`ALTER DATABASE ${quote(building)} RENAME TO ${quote(template)}`);
      await admin.query(`COMMENT ON DATABASE ${quote(template)} IS 'created ${Date.now()}'`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK.testTemplate]);
    }
  });
  return template;
}

export type TTestDatabase = {
  url: string;
  name: string;
  drop(): Promise<void>;
};

/** A new, migrated, empty database of its own. Call `drop()` when done. */
export async function createTestDatabase(label = "db", serverUrl = TEST_SERVER_URL): Promise<TTestDatabase> {
  const template = await ensureTemplate(serverUrl);
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .slice(0, 20);
  const name = `fleetdrop_test_${Date.now()}_${safeLabel}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdmin(serverUrl, async (admin) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(template)}`);
        return;
      } catch (error) {
        // "source database is being accessed by other users": another clone is starting.
        if ((error as { code?: string }).code !== "55006" || attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    }
  });
  const url = withDatabase(serverUrl, name);
  return {
    url,
    name,
    drop: () => withAdmin(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`)).then(() => {}),
  };
}
