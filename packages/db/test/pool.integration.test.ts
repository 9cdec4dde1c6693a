/**
 * A database restart or a killed backend must not crash a service that holds a client between
 * two queries (a transaction, an advisory lock, a LISTEN): the holder's next query fails, the
 * pool replaces the client.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createPgPool } from "../src/pool";
import { createTestDatabase, type TTestDatabase } from "../src/testing";

let db: TTestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("pool");
});

afterAll(async () => {
  await db?.drop();
});

it("survives the connection of a checked-out client being terminated, and serves the next query", async () => {
  const pool = createPgPool({ databaseUrl: db.url, max: 2 });
  const admin = createPgPool({ databaseUrl: db.url, max: 1 });
  try {
    const held = await pool.connect();
    const { rows } = await held.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
    // Without a listener the lost connection would surface as an uncaught 'error' here, which
    // fails this test run.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(held.query("SELECT 1")).rejects.toThrow();
    held.release();
    expect((await pool.query<{ one: number }>("SELECT 1 AS one")).rows[0]!.one).toBe(1);
  } finally {
    await pool.end();
    await admin.end();
  }
});
