/** Sessions opened and closed by devices (docs/protocol.md#sessions). */
import { runTyped, typedSql, type TRowOf } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { sql } from "kysely";

export type TSessionRecord = {
  id: number;
  deviceUuid: string;
  name: string;
  state: "open" | "closed";
  startedAt: Date;
  endedAt: Date | null;
};

type TRow = TRowOf<"sessions", "id" | "device_id" | "name" | "state" | "started_at" | "ended_at">;

const toRecord = (row: TRow): TSessionRecord => ({
  id: row.id,
  deviceUuid: row.device_id,
  name: row.name,
  state: row.state,
  startedAt: row.started_at,
  endedAt: row.ended_at,
});

/** The columns of TRow, for the statements Kysely cannot express (a CTE insert, `xmax`). */
const COLUMNS = "id, device_id, name, state::text AS state, started_at, ended_at";
const SELECTED = ["id", "device_id", "name", "state", "started_at", "ended_at"] as const satisfies readonly (keyof TRow)[];

/** How long an identical open without request_id counts as a re-delivery of the same request. */
const OPEN_DEDUPLICATION_SECONDS = 60;

/** Opens a session; `created` is false when this was a re-delivery of an earlier open. */
export async function openDeviceSession(
  pool: Pool,
  input: { deviceUuid: string; projectId: string; name: string; metadata: unknown; requestId: string | undefined },
): Promise<TSessionRecord & { created: boolean }> {
  const metadata = input.metadata === undefined ? null : JSON.stringify(input.metadata);
  if (input.requestId !== undefined) {
    // The unique (device_id, open_request_id) makes a re-delivered open return the same row.
    const result = await pool.query<TRow & { created: boolean }>(
      `INSERT INTO sessions (device_id, project_id, name, metadata, open_request_id)
       VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (device_id, open_request_id) DO UPDATE SET updated_at = sessions.updated_at
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [input.deviceUuid, input.projectId, input.name, metadata, input.requestId],
    );
    return { ...toRecord(result.rows[0]!), created: result.rows[0]!.created };
  }
  const result = await pool.query<TRow & { created: boolean }>(
    `WITH recent AS (
       SELECT ${COLUMNS} FROM sessions
       WHERE device_id = $1 AND open_request_id IS NULL AND name = $3 AND metadata IS NOT DISTINCT FROM $4::jsonb
         AND state = 'open' AND started_at > now() - make_interval(secs => $5)
       ORDER BY id DESC LIMIT 1
     ),
     created AS (
       INSERT INTO sessions (device_id, project_id, name, metadata)
       SELECT $1, $2, $3, $4::jsonb WHERE NOT EXISTS (SELECT 1 FROM recent)
       RETURNING ${COLUMNS}
     )
     SELECT *, false AS created FROM recent UNION ALL SELECT *, true AS created FROM created`,
    [input.deviceUuid, input.projectId, input.name, metadata, OPEN_DEDUPLICATION_SECONDS],
  );
  return { ...toRecord(result.rows[0]!), created: result.rows[0]!.created };
}

export async function findSession(pool: Pool, sessionId: number): Promise<TSessionRecord | null> {
  const result = await runTyped(pool, typedSql.selectFrom("sessions").select(SELECTED).where("id", "=", sessionId));
  return result.rows[0] ? toRecord(result.rows[0]) : null;
}

/** Closes a session (idempotent: closing a closed session keeps its end time). */
export async function closeSession(pool: Pool, sessionId: number): Promise<TSessionRecord> {
  const result = await runTyped(
    pool,
    typedSql
      .updateTable("sessions")
      .set({ state: "closed", ended_at: sql<Date>`coalesce(ended_at, now())`, updated_at: sql<Date>`now()` })
      .where("id", "=", sessionId)
      .returning(SELECTED),
  );
  return toRecord(result.rows[0]!);
}
