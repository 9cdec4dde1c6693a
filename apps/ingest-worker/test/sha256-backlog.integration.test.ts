/**
 * An upgrade from a schema without SHA-256s: files uploaded before the platform computed digests
 * get one from the background hasher once the database is migrated, with no upload of theirs
 * happening again. Real PostgreSQL migrated in two steps (the migrations of that time from a copy
 * of the folder, then the rest), the fs store.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { dropDatabase, migrateDatabase, MIGRATIONS_DIR, withDatabase } from "@fleetdrop/db/migrate";
import { createPgPool, type Pool } from "@fleetdrop/db/pool";
import { TEST_SERVER_URL } from "@fleetdrop/db/testing";
import { createStore } from "@fleetdrop/storage/config";
import type { FsStore } from "@fleetdrop/storage/fs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createObjectHasher } from "../src/digests/hasher";

/** The first migration whose files have a `sha256` column: the database is made as it was before it. */
const SHA256_COLUMN = "20261207121000_files_sha256_arrival";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("files uploaded before SHA-256s were computed", () => {
  const url = withDatabase(TEST_SERVER_URL, `fleetdrop_test_${Date.now()}_sha256_backlog_${process.pid}`);
  let work: string;
  let store: FsStore;
  let pool: Pool;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "fd-sha256-backlog-"));
    store = createStore({
      backend: "fs",
      bucket: "fleetdrop",
      rootDir: path.join(work, "store"),
      publicUrl: "http://127.0.0.1:9",
      accessKeyId: "fleetdrop",
      secretAccessKey: "test-secret-of-the-fs-store-0123456789",
    });
  });

  afterAll(async () => {
    await pool?.end();
    await dropDatabase(url);
    await rm(work, { recursive: true, force: true });
  });

  /** A copy of the project's migrations folder holding only those named before `before`. */
  async function migrationsBefore(before: string): Promise<string> {
    const dir = path.join(work, `migrations-${before}`);
    await mkdir(dir);
    for (const entry of await readdir(MIGRATIONS_DIR))
      if (entry === "migration_lock.toml" || entry < before)
        await cp(path.join(MIGRATIONS_DIR, entry), path.join(dir, entry), { recursive: true });
    return dir;
  }

  it("are queued for the hasher by the upgrade and get their SHA-256 from it", async () => {
    await migrateDatabase({ databaseUrl: url, createDatabase: true, migrationsDir: await migrationsBefore(SHA256_COLUMN) });
    pool = createPgPool({ databaseUrl: url, max: 3 });
    const { rows } = await pool.query<{ session_id: number }>(
      `WITH p AS (INSERT INTO projects (slug, name) VALUES ('p', 'Fleet') RETURNING id),
            d AS (INSERT INTO devices (serial, project_id, name) SELECT 'ROBOT-A', id, 'ROBOT-A' FROM p RETURNING id, project_id)
       INSERT INTO sessions (device_id, project_id, name) SELECT id, project_id, 's' FROM d RETURNING id AS session_id`,
    );
    const sessionId = rows[0]!.session_id;
    // Rows as a worker of that schema wrote them: an uploaded file (its object in storage) and one
    // whose form was never used.
    const old = await store.put(`sessions/ROBOT-A/${sessionId}/old.bin`, "uploaded before digests", { contentType: "text/plain" });
    await pool.query(
      `INSERT INTO files (session_id, filename, object_key, content_type, size_limit, state, size, etag, expires_at, uploaded_at)
       VALUES ($1, 'old.bin', $2, 'text/plain', 100, 'uploaded', $3, $4, now(), now()),
              ($1, 'never.bin', $5, 'text/plain', 100, 'pending', NULL, NULL, now() + interval '1 hour', NULL)`,
      [sessionId, old.key, old.size, old.etag, `sessions/ROBOT-A/${sessionId}/never.bin`],
    );

    await migrateDatabase({ databaseUrl: url });
    const due = await pool.query<{ filename: string; sha256: string | null; due: boolean }>(
      "SELECT filename, sha256, sha256_due_at IS NOT NULL AS due FROM files ORDER BY filename",
    );
    expect(due.rows).toEqual([
      { filename: "never.bin", sha256: null, due: false },
      { filename: "old.bin", sha256: null, due: true },
    ]);

    // A worker starting on the migrated database finds it without being told.
    const hasher = createObjectHasher({ pool, store, log: pino({ level: "silent" }) });
    hasher.start();
    try {
      const deadline = Date.now() + 20_000;
      let row: { sha256: string | null; sha256_due_at: Date | null } | undefined;
      do {
        await new Promise((resolve) => setTimeout(resolve, 100));
        row = (await pool.query("SELECT sha256, sha256_due_at FROM files WHERE filename = 'old.bin'")).rows[0];
      } while (row?.sha256 === null && Date.now() < deadline);
      expect(row).toEqual({ sha256: sha256("uploaded before digests"), sha256_due_at: null });
    } finally {
      await hasher.close();
    }
    expect((await pool.query("SELECT sha256, sha256_due_at FROM files WHERE filename = 'never.bin'")).rows).toEqual([
      { sha256: null, sha256_due_at: null },
    ]);
  });
});
