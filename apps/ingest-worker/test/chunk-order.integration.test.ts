/**
 * A device's chunks of one stream are handed to the deliverer in outbox order even when two
 * writers (two workers' group commits) commit in the other order than they took their ids: the
 * reader (nextChunks) never hands out a later chunk while an earlier one of the lane may still
 * commit, and never skips it. Real PostgreSQL; the first writer is held, after it took its id and
 * before it commits, by a trigger of this test that waits for a lock the test holds.
 */
import { ADVISORY_LOCK } from "@fleetdrop/db/advisory-locks";
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { enqueueChunks, nextChunks, type TChunkOutcome } from "../src/chunks/outbox-db";
import { createOutboxFixture, ORDER_DEVICE, type TOutboxFixture } from "./support/outbox-fixture";

/** The advisory lock (in this test's own database) the held writer's trigger waits for. */
const HOLD_LOCK = [1, 1];
const HELD_TYPE = "test/held";

let fixture: TOutboxFixture;
let pool: Pool;
let holder: PoolClient;
let lane: { streamId: string; deviceId: string };
/** The held writes started, settled or not. */
const writes: Promise<unknown>[] = [];

beforeAll(async () => {
  fixture = await createOutboxFixture("chunk-order");
  ({ pool } = fixture);
  const { project, device } = fixture;
  const stream = await fixture.prisma.chunkStream.create({
    data: { projectId: project.id, name: "telemetry", urlTemplate: "http://127.0.0.1:9/ingest" },
  });
  lane = { streamId: stream.id, deviceId: device.id };
  // The lane as it is after the device's first chunk. (Its first insert makes a second writer wait
  // for the first one's commit on the lane's row; the writers after that do not wait.)
  await pool.query("INSERT INTO chunk_lanes (stream_id, device_id) VALUES ($1, $2)", [stream.id, device.id]);
  await pool.query(`
    CREATE FUNCTION test_hold_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.content_type = '${HELD_TYPE}' THEN PERFORM pg_advisory_xact_lock(${HOLD_LOCK[0]}, ${HOLD_LOCK[1]}); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_hold_chunk AFTER INSERT ON chunk_outbox FOR EACH ROW EXECUTE FUNCTION test_hold_chunk();`);
  holder = await pool.connect();
});

afterAll(async () => {
  holder?.release();
  await fixture?.close();
});

const write = (text: string, contentType: string | null = null) =>
  enqueueChunks(pool, [{ serial: ORDER_DEVICE, stream: "telemetry", data: Buffer.from(text), contentType }]);

const pendingTexts = async () => (await nextChunks(pool, lane, 20)).map((chunk) => chunk.payload.toString());

const chunkIdOf = (outcomes: TChunkOutcome[]) => {
  const [outcome] = outcomes;
  if (!outcome?.ok) throw new Error("chunk refused");
  return BigInt(outcome.chunkId);
};

/** Starts a write that takes its id, then waits (uncommitted) until `release()`. */
async function heldWrite(text: string) {
  await holder.query("SELECT pg_advisory_lock($1, $2)", HOLD_LOCK);
  const writing = write(text, HELD_TYPE);
  // Observed here too: a test that fails before it awaits the write leaves no unhandled rejection.
  writes.push(writing.catch(() => {}));
  // Waiting for the lock means its row, and so its id, is taken.
  for (let waited = 0; ; waited += 10) {
    const { rowCount } = await pool.query(
      "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2",
      HOLD_LOCK,
    );
    if (rowCount) break;
    if (waited > 5000) throw new Error("the held write never reached its insert");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    writing,
    release: () => holder.query("SELECT pg_advisory_unlock($1, $2)", HOLD_LOCK),
  };
}

afterEach(async () => {
  // Whatever a test left: no held writer, an empty lane.
  await holder.query("SELECT pg_advisory_unlock_all()");
  await Promise.all(writes.splice(0));
  await pool.query("DELETE FROM chunk_outbox WHERE stream_id = $1 AND device_id = $2", [lane.streamId, lane.deviceId]);
});

describe("a lane's chunks written by two writers that commit out of id order", () => {
  it("are not read past an earlier chunk whose transaction commits after a later one's", async () => {
    const first = await heldWrite("first");
    const second = chunkIdOf(await write("second"));
    // "second" is committed, "first" holds a lower id and is not: handing out "second" now would deliver it first.
    expect(await pendingTexts()).toEqual([]);
    await first.release();
    expect(chunkIdOf(await first.writing)).toBeLessThan(second);
    expect(await pendingTexts()).toEqual(["first", "second"]);
  });

  it("leave nothing behind for an earlier writer that fails, and the rest is read in order", async () => {
    await pool.query("CREATE TABLE test_fail_after_hold (n int NOT NULL)");
    // The held writer fails after its wait: its chunk is rolled back.
    await pool.query(`
      CREATE OR REPLACE FUNCTION test_hold_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.content_type = '${HELD_TYPE}' THEN
          PERFORM pg_advisory_xact_lock(${HOLD_LOCK[0]}, ${HOLD_LOCK[1]});
          INSERT INTO test_fail_after_hold VALUES (NULL);
        END IF;
        RETURN NEW;
      END $$;`);
    const first = await heldWrite("lost");
    await write("kept");
    expect(await pendingTexts()).toEqual([]);
    await first.release();
    await expect(first.writing).rejects.toMatchObject({ code: "23502" });
    expect(await pendingTexts()).toEqual(["kept"]);
  });

  it("are read under the lock the writers take", async () => {
    // The reader takes the lock in SQL, by its number: it must be the one enqueueChunks shares.
    const { rows } = await pool.query<{ src: string }>("SELECT prosrc AS src FROM pg_proc WHERE proname = 'fleetdrop_chunk_next'");
    expect(rows[0]?.src).toContain(`pg_try_advisory_xact_lock(${ADVISORY_LOCK.chunkLane}, hashtext(p_device::text))`);
  });

  it("do not wait for each other, and a lane with no open writer is read at once", async () => {
    await Promise.all([write("a"), write("b"), write("c")]);
    const started = performance.now();
    expect((await pendingTexts()).sort()).toEqual(["a", "b", "c"]);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
