/**
 * withTransaction against real PostgreSQL: what the callback wrote is committed when it resolves
 * and rolled back when it throws, and the client goes back to the pool either way — closed, not
 * reused, when its connection cannot be rolled back.
 */
import { createPgPool, type Pool } from "@fleetdrop/db/pool";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { withTransaction } from "./transaction";

let db: TTestDatabase;
/** One connection: a client not given back would leave the next connect() waiting until it times out. */
let pool: Pool;
let admin: Pool;

beforeAll(async () => {
  db = await createTestDatabase("with-transaction");
  pool = createPgPool({ databaseUrl: db.url, max: 1, connectionTimeoutMillis: 2000 });
  admin = createPgPool({ databaseUrl: db.url, max: 2 });
  await admin.query("CREATE TABLE probe (n int NOT NULL)");
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

beforeEach(async () => {
  await admin.query("TRUNCATE probe");
});

const stored = async () => (await admin.query<{ n: number }>("SELECT n FROM probe ORDER BY n")).rows.map((row) => row.n);

/** The pool holds its one connection idle (given back), or none (closed). */
const poolState = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });

describe("withTransaction", () => {
  it("commits what the callback wrote when it resolves, returns its value and gives the client back", async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO probe VALUES (1), (2)");
      // Not visible outside before the commit.
      expect(await stored()).toEqual([]);
      return "done";
    });
    expect(result).toBe("done");
    expect(await stored()).toEqual([1, 2]);
    expect(poolState()).toEqual({ total: 1, idle: 1, waiting: 0 });
    // The connection given back is outside any transaction.
    const { rows } = await pool.query<{ open: boolean }>("SELECT now() <> statement_timestamp() AS open");
    expect(rows[0]?.open).toBe(false);
  });

  it("rolls back when the callback throws, rethrows the same error and gives the client back", async () => {
    const failure = new Error("refused");
    await expect(
      withTransaction(pool, async (client) => {
        await client.query("INSERT INTO probe VALUES (3)");
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await stored()).toEqual([]);
    expect(poolState()).toEqual({ total: 1, idle: 1, waiting: 0 });
    // The one connection is usable, and not inside the rolled-back transaction.
    await pool.query("INSERT INTO probe VALUES (4)");
    expect(await stored()).toEqual([4]);
  });

  it("rolls back when a statement fails, and the next transaction on the same connection works", async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await client.query("INSERT INTO probe VALUES (5)");
        await client.query("INSERT INTO probe VALUES (NULL)");
      }),
    ).rejects.toMatchObject({ code: "23502" });
    expect(await stored()).toEqual([]);
    await withTransaction(pool, (client) => client.query("INSERT INTO probe VALUES (6)"));
    expect(await stored()).toEqual([6]);
  });

  it("closes the client instead of reusing it when the rollback itself fails", async () => {
    const failure = new Error("after the connection was lost");
    let pid = 0;
    await expect(
      withTransaction(pool, async (client) => {
        pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        await client.query("INSERT INTO probe VALUES (7)");
        await admin.query("SELECT pg_terminate_backend($1)", [pid]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await stored()).toEqual([]);
    expect(poolState()).toEqual({ total: 0, idle: 0, waiting: 0 });
    // The pool opens a new connection for the next user.
    const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    expect(rows[0]?.pid).not.toBe(pid);
  });

  it("closes a discarded client without committing, and returns the callback's value", async () => {
    let pid = 0;
    const result = await withTransaction(pool, async (client, tx) => {
      pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      await client.query("INSERT INTO probe VALUES (8)");
      tx.discard();
      return 8;
    });
    expect(result).toBe(8);
    expect(poolState()).toEqual({ total: 0, idle: 0, waiting: 0 });
    // The server ends the transaction of the closed connection without committing it.
    let gone = false;
    for (let waited = 0; !gone && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      gone = (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).rowCount === 0;
    }
    expect(gone).toBe(true);
    expect(await stored()).toEqual([]);
  });

  it("opens the transaction with the statement asked for", async () => {
    await expect(
      withTransaction(pool, (client) => client.query("INSERT INTO probe VALUES (9)"), { begin: "BEGIN READ ONLY" }),
    ).rejects.toMatchObject({ code: "25006" });
    const isolation = await withTransaction(
      pool,
      async (client) => (await client.query<{ level: string }>("SELECT current_setting('transaction_isolation') AS level")).rows[0]!.level,
      { begin: "BEGIN ISOLATION LEVEL REPEATABLE READ" },
    );
    expect(isolation).toBe("repeatable read");
    expect(poolState()).toEqual({ total: 1, idle: 1, waiting: 0 });
  });
});
