/**
 * One batch holding every kind of request at once, against a real PostgreSQL: each request
 * must get its own outcome, whatever the others in its batch are.
 */
import { createPgPool, type Pool } from "@fleetdrop/db/pool";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { sessionObjectKey } from "@fleetdrop/shared/names";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordUploadRequests, type TUploadRow } from "./upload-requests";

let db: TTestDatabase;
let pool: Pool;
const seed = { openA: 0, closedA: 0, openB: 0, openOff: 0 };
const times = { expiresInSeconds: 3600, firstCheckAfterSeconds: null };

beforeAll(async () => {
  db = await createTestDatabase("upload-requests");
  pool = createPgPool({ databaseUrl: db.url, max: 2 });
  const project = (await pool.query<{ id: string }>("INSERT INTO projects (slug, name) VALUES ('p', 'p') RETURNING id")).rows[0]!.id;
  const device = async (serial: string, enabled = true) =>
    (
      await pool.query<{ id: string }>("INSERT INTO devices (serial, project_id, name, enabled) VALUES ($1, $2, $1, $3) RETURNING id", [
        serial,
        project,
        enabled,
      ])
    ).rows[0]!.id;
  const session = async (deviceId: string, state = "open") =>
    (
      await pool.query<{ id: number }>(
        "INSERT INTO sessions (device_id, project_id, name, state) VALUES ($1, $2, 's', $3::session_state) RETURNING id",
        [deviceId, project, state],
      )
    ).rows[0]!.id;
  const [a, b, off] = [await device("ROBOT-A"), await device("ROBOT-B"), await device("ROBOT-OFF", false)];
  Object.assign(seed, {
    openA: await session(a),
    closedA: await session(a, "closed"),
    openB: await session(b),
    openOff: await session(off),
  });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function request(deviceId: string, sessionId: number, filename: string, extra: Partial<TUploadRow> = {}): TUploadRow {
  return {
    deviceId,
    sessionId,
    filename,
    objectKey: sessionObjectKey(deviceId, sessionId, filename),
    contentType: "application/octet-stream",
    sizeLimit: 1024,
    requestId: null,
    overwrite: false,
    arrivedVia: "form",
    ...extra,
  };
}

async function fileRow(sessionId: number, filename: string) {
  const result = await pool.query(
    "SELECT id, state, content_type, request_id, object_key, expires_at FROM files WHERE session_id = $1 AND filename = $2",
    [sessionId, filename],
  );
  return result.rows[0];
}

describe("recordUploadRequests", () => {
  it("gives every request of a mixed batch its own outcome and writes only the valid ones", async () => {
    await pool.query(
      "INSERT INTO files (session_id, filename, object_key, content_type, size_limit, state, expires_at) " +
        "VALUES ($1, 'done.bin', $2, 'x/y', 1, 'uploaded', now()), " +
        "($1, 'replace.bin', $3, 'x/y', 1, 'uploaded', now())",
      [seed.openA, sessionObjectKey("ROBOT-A", seed.openA, "done.bin"), sessionObjectKey("ROBOT-A", seed.openA, "replace.bin")],
    );
    const batch = [
      request("ROBOT-A", seed.openA, "ok.bin"),
      request("ROBOT-GHOST", seed.openA, "ok.bin"),
      request("ROBOT-OFF", seed.openOff, "a.bin"),
      request("ROBOT-A", 999_999, "a.bin"),
      // B names A's session and the very file A asks for in this batch.
      request("ROBOT-B", seed.openA, "ok.bin"),
      request("ROBOT-A", seed.closedA, "a.bin"),
      request("ROBOT-A", seed.openA, "done.bin"),
      request("ROBOT-A", seed.openA, "replace.bin", { overwrite: true, contentType: "image/png" }),
      // The same file twice in one batch: one row, the later request's fields.
      request("ROBOT-B", seed.openB, "twice.bin", { requestId: "first" }),
      request("ROBOT-B", seed.openB, "twice.bin", { requestId: "second" }),
    ];
    const outcomes = await recordUploadRequests(pool, batch, times);
    expect(outcomes.map((o) => (o.ok ? "ok" : o.code))).toEqual([
      "ok",
      "device_unknown",
      "device_disabled",
      "session_not_found",
      "session_not_owned",
      "session_closed",
      "file_exists",
      "ok",
      "ok",
      "ok",
    ]);
    const id = (index: number) => (outcomes[index]!.ok ? (outcomes[index] as { fileId: string }).fileId : null);
    expect(id(0)).toBe((await fileRow(seed.openA, "ok.bin")).id);
    expect(await fileRow(seed.openA, "ok.bin")).toMatchObject({
      state: "pending",
      object_key: sessionObjectKey("ROBOT-A", seed.openA, "ok.bin"),
    });
    expect(await fileRow(seed.openA, "done.bin")).toMatchObject({ state: "uploaded" });
    expect(await fileRow(seed.openA, "replace.bin")).toMatchObject({ state: "pending", content_type: "image/png", id: id(7) });
    expect(id(8)).toBe(id(9));
    expect(await fileRow(seed.openB, "twice.bin")).toMatchObject({ request_id: "second", id: id(8) });
    const count = await pool.query("SELECT count(*)::int AS n FROM files");
    expect(count.rows[0].n).toBe(2 + 2);
  });

  it("refreshes a pending file's row with the new form: same id, new expiry and request id", async () => {
    const [first] = await recordUploadRequests(pool, [request("ROBOT-B", seed.openB, "again.bin", { requestId: "r1" })], times);
    const before = await fileRow(seed.openB, "again.bin");
    const [second] = await recordUploadRequests(pool, [request("ROBOT-B", seed.openB, "again.bin", { requestId: "r2" })], {
      ...times,
      expiresInSeconds: 7200,
    });
    expect(first).toMatchObject({ ok: true });
    expect(second).toEqual(first);
    const after = await fileRow(seed.openB, "again.bin");
    expect(after.request_id).toBe("r2");
    expect(after.expires_at.getTime()).toBeGreaterThan(before.expires_at.getTime() + 3_000_000);
  });

  it("settles a request that raced a change: refused when written, valid when looked at, it is written again", async () => {
    // The device is disabled for the first statement and enabled again before the request is
    // looked at: a trigger re-enables it as soon as the first statement has run.
    await pool.query("UPDATE devices SET enabled = false WHERE serial = 'ROBOT-B'");
    await pool.query(`
      CREATE FUNCTION reenable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE devices SET enabled = true WHERE serial = 'ROBOT-B'; RETURN NULL; END $$;
      CREATE TRIGGER reenable AFTER INSERT OR UPDATE ON files FOR EACH STATEMENT EXECUTE FUNCTION reenable();`);
    try {
      const [outcome] = await recordUploadRequests(pool, [request("ROBOT-B", seed.openB, "race.bin")], times);
      expect(outcome).toMatchObject({ ok: true });
      expect(await fileRow(seed.openB, "race.bin")).toMatchObject({ state: "pending" });
    } finally {
      await pool.query(
        "DROP TRIGGER reenable ON files; DROP FUNCTION reenable(); UPDATE devices SET enabled = true WHERE serial = 'ROBOT-B'",
      );
    }
  });
});
