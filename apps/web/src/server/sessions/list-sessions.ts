import "server-only";
import { Prisma } from "@fleetdrop/db";
import { CAN } from "@/lib/roles";
import { SESSION_PAGE_SIZE, type TSessionListQuery } from "@/lib/list-queries";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TSessionRow = {
  id: number;
  name: string;
  state: "open" | "closed";
  startedAt: string;
  endedAt: string | null;
  deviceSerial: string;
  deviceName: string;
  files: number;
  pending: number;
  bytes: string;
};

export type TSessionList = { rows: TSessionRow[]; total: number; page: number; pageSize: number };

const ORDER: Record<TSessionListQuery["sort"], { sql: Prisma.Sql; defaultDir: "asc" | "desc" }> = {
  started: { sql: Prisma.sql`s.started_at`, defaultDir: "desc" },
  id: { sql: Prisma.sql`s.id`, defaultDir: "desc" },
  name: { sql: Prisma.sql`lower(s.name)`, defaultDir: "asc" },
  files: { sql: Prisma.sql`a.files`, defaultDir: "desc" },
  bytes: { sql: Prisma.sql`a.bytes`, defaultDir: "desc" },
};

function startOfDay(date: string, plusDays = 0): Date {
  const d = new Date(`${date}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + plusDays);
  return d;
}

/**
 * One page of a project's sessions with their file counts and bytes, filtered and sorted in
 * PostgreSQL. Counts are computed for the page's sessions only, except when sorting by them.
 */
export async function listSessions(options: { ctx: TProjectContext; query: TSessionListQuery; deviceId?: string }): Promise<TSessionList> {
  const { ctx, query } = options;
  requireRole(ctx, CAN.browse);
  const conditions: Prisma.Sql[] = [Prisma.sql`s.project_id = ${ctx.project.id}::uuid`];
  if (options.deviceId) conditions.push(Prisma.sql`s.device_id = ${options.deviceId}::uuid`);
  if (query.device) conditions.push(Prisma.sql`d.serial = ${query.device}`);
  if (query.state) conditions.push(Prisma.sql`s.state = ${query.state}::session_state`);
  if (query.from) conditions.push(Prisma.sql`s.started_at >= ${startOfDay(query.from)}`);
  if (query.to) conditions.push(Prisma.sql`s.started_at < ${startOfDay(query.to, 1)}`);
  if (query.arrivedFrom && query.arrivedTo) {
    const from = new Date(query.arrivedFrom);
    const to = new Date(query.arrivedTo);
    // The devices with arrivals in the window (the hourly rollup) narrow the sessions to look at
    // before each one's files are asked; a session cannot hold a file older than itself.
    conditions.push(Prisma.sql`s.started_at < ${to}
      AND s.device_id IN (SELECT fa.device_id FROM file_arrivals fa
                           WHERE fa.project_id = ${ctx.project.id}::uuid
                             AND fa.hour >= date_trunc('hour', ${from}::timestamptz, 'UTC') AND fa.hour < ${to})
      AND EXISTS (SELECT 1 FROM files f
                   WHERE f.session_id = s.id AND f.state = 'uploaded' AND f.uploaded_at >= ${from} AND f.uploaded_at < ${to})`);
  }
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const id = /^\d{1,9}$/.test(query.q) ? Number(query.q) : null;
    conditions.push(
      id === null
        ? Prisma.sql`(s.name ILIKE ${like} OR d.serial ILIKE ${like})`
        : Prisma.sql`(s.id = ${id} OR s.name ILIKE ${like} OR d.serial ILIKE ${like})`,
    );
  }
  const where = Prisma.join(conditions, " AND ");
  const order = ORDER[query.sort];
  const dir = (query.dir ?? order.defaultDir) === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`;
  const pageSize = SESSION_PAGE_SIZE;
  const offset = (query.page - 1) * pageSize;
  const sortsByAggregate = query.sort === "files" || query.sort === "bytes";
  const prisma = db();

  type TRaw = {
    id: number;
    name: string;
    state: "open" | "closed";
    started_at: Date;
    ended_at: Date | null;
    serial: string;
    device_name: string;
    files: number;
    pending: number;
    bytes: bigint;
  };
  // Files, pending files and bytes of one session (alias `a`), for the rows of this page only
  // unless the page is sorted by them.
  const aggregate = (sessionId: Prisma.Sql) => Prisma.sql`LEFT JOIN LATERAL (
      SELECT count(*)::int AS files,
             (count(*) FILTER (WHERE f.state = 'pending'))::int AS pending,
             coalesce(sum(f.size), 0)::bigint AS bytes
        FROM files f WHERE f.session_id = ${sessionId}) a ON true`;

  const rowsQuery = sortsByAggregate
    ? prisma.$queryRaw<TRaw[]>`
        SELECT s.id, s.name, s.state, s.started_at, s.ended_at, d.serial, d.name AS device_name, a.files, a.pending, a.bytes
          FROM sessions s JOIN devices d ON d.id = s.device_id ${aggregate(Prisma.sql`s.id`)}
         WHERE ${where}
         ORDER BY ${order.sql} ${dir}, s.id DESC
         LIMIT ${pageSize} OFFSET ${offset}`
    : prisma.$queryRaw<TRaw[]>`
        SELECT p.*, a.files, a.pending, a.bytes FROM (
          SELECT s.id, s.name, s.state, s.started_at, s.ended_at, d.serial, d.name AS device_name, ${order.sql} AS sort_key
            FROM sessions s JOIN devices d ON d.id = s.device_id
           WHERE ${where}
           ORDER BY ${order.sql} ${dir}, s.id DESC
           LIMIT ${pageSize} OFFSET ${offset}) p
        ${aggregate(Prisma.sql`p.id`)}
        ORDER BY p.sort_key ${dir}, p.id DESC`;

  const [rows, count] = await Promise.all([
    rowsQuery,
    prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions s JOIN devices d ON d.id = s.device_id WHERE ${where}`,
  ]);

  return {
    rows: rows.map((r) => ({
      id: r.id,
      name: r.name,
      state: r.state,
      startedAt: r.started_at.toISOString(),
      endedAt: r.ended_at?.toISOString() ?? null,
      deviceSerial: r.serial,
      deviceName: r.device_name,
      files: r.files,
      pending: r.pending,
      bytes: r.bytes.toString(),
    })),
    total: count[0]?.n ?? 0,
    page: query.page,
    pageSize,
  };
}
