/**
 * The batcher's contract: natural batching, one outcome per item, failures confined to their
 * batch, and the next batch sent to the database before the previous one's results are handed
 * out (checked with node-pg's real pool, whose send this relies on).
 */
import { createPgPool, type Pool } from "@fleetdrop/db/pool";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Batcher } from "./batcher";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("Batcher", () => {
  it("sends the first item at once and the items that arrive meanwhile together", async () => {
    const batches: number[][] = [];
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push(items);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
        return items.map((item) => item * 10);
      },
      { maxBatch: 3, maxConcurrent: 1 },
    );
    const results = [1, 2, 3, 4, 5].map((item) => batcher.submit(item));
    expect(batches).toEqual([[1]]);
    gates[0]!.resolve();
    await results[0];
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates[1]!.resolve();
    await results[3];
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
    gates[2]!.resolve();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
  });

  it("fails only the items of a failed batch and goes on with the next", async () => {
    let call = 0;
    const batcher = new Batcher<string, string>(
      async (items) => {
        call++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (call === 2) throw new Error("database down");
        return items.map((item) => item.toUpperCase());
      },
      { maxBatch: 10, maxConcurrent: 1 },
    );
    const first = batcher.submit("a");
    const failed = [batcher.submit("b"), batcher.submit("c")];
    expect(await first).toBe("A");
    await expect(failed[0]).rejects.toThrow("database down");
    await expect(failed[1]).rejects.toThrow("database down");
    expect(await batcher.submit("d")).toBe("D");
    expect(call).toBe(3);
  });

  it("keeps at most maxConcurrent batches in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const batcher = new Batcher<number, number>(
      async (items) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return items;
      },
      { maxBatch: 2, maxConcurrent: 2 },
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.submit(i)));
    expect(most).toBe(2);
  });
});

describe("Batcher with node-pg's pool", () => {
  let db: TTestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    db = await createTestDatabase("batcher");
    pool = createPgPool({ databaseUrl: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("has the next batch's query under way before the previous batch's results are handed out", async () => {
    const log: string[] = [];
    pool.on("acquire", () => log.push("next query acquires a connection"));
    const batcher = new Batcher<number, number>(
      async (items) => {
        log.push(`batch [${items.join(",")}] sent`);
        const result = await pool.query<{ n: number }>("SELECT $1::int AS n, pg_sleep(0.005)", [items.length]);
        return items.map(() => result.rows[0]!.n);
      },
      { maxBatch: 10, maxConcurrent: 1 },
    );
    const handled = [1, 2, 3].map(async (item) => {
      const size = await batcher.submit(item);
      log.push(`item ${item} handled (batch of ${size})`);
    });
    await Promise.all(handled);
    pool.removeAllListeners("acquire");
    expect(log).toEqual([
      "batch [1] sent",
      "next query acquires a connection",
      "batch [2,3] sent",
      // The second batch's query is under way before the first batch's item is handed its result.
      "next query acquires a connection",
      "item 1 handled (batch of 1)",
      "item 2 handled (batch of 2)",
      "item 3 handled (batch of 2)",
    ]);
  });
});
