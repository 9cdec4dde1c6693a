import "server-only";
import { Prisma } from "@fleetdrop/db";
import { CAN } from "@/lib/roles";
import { bucketOf, OVERVIEW_RANGES, type TOverview, type TOverviewQuery } from "@/lib/overview";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

/** How many devices the "sending the most" and "backlog" charts show. */
const TOP = 10;

/**
 * A project's landing page in seven aggregate queries run together. Reading the files themselves
 * took seconds on a 1,000,000-file project (the pages benchmark), so arrivals and top senders
 * come from file_arrivals (per device and hour) and storage from the sessions' stored totals,
 * both kept by a trigger on files. Times are bucketed in UTC, as the dashboard prints them.
 */
export async function getOverview(options: { ctx: TProjectContext; query: TOverviewQuery; now?: Date }): Promise<TOverview> {
  requireRole(options.ctx, CAN.browse);
  const prisma = db();
  const projectId = options.ctx.project.id;
  const bucket = bucketOf(options.query);
  const now = options.now ?? new Date();
  const from = new Date(now.getTime() - OVERVIEW_RANGES[options.query.range] * 3600_000);
  if (bucket === "hour") from.setUTCMinutes(0, 0, 0);
  else from.setUTCHours(0, 0, 0, 0);

  // Seen: connected, sent a request, or went offline (so was connected until then) in the last 24 h.
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const [arrivals, refusals, devices, sessionsStore, namedStores, topDevices, backlogs] = await Promise.all([
    prisma.$queryRaw<{ at: Date; files: number; bytes: string }[]>(Prisma.sql`
      SELECT date_trunc(${bucket}, hour, 'UTC') AS at, sum(files)::int AS files, sum(bytes)::text AS bytes
      FROM file_arrivals WHERE project_id = ${projectId}::uuid AND hour >= ${from}
      GROUP BY 1 ORDER BY 1`),
    prisma.$queryRaw<{ code: string; count: number }[]>(Prisma.sql`
      SELECT code, sum(count)::int AS count FROM request_refusals
      WHERE project_id = ${projectId}::uuid AND hour >= ${from}
      GROUP BY code ORDER BY 2 DESC, code`),
    prisma.$queryRaw<{ total: number; online: number; offline: number; seen24h: number }[]>(Prisma.sql`
      SELECT count(*)::int AS total,
        count(*) FILTER (WHERE presence_online)::int AS online,
        count(*) FILTER (WHERE presence_online = false)::int AS offline,
        count(*) FILTER (WHERE presence_online OR last_seen_at >= ${dayAgo} OR presence_heard_at >= ${dayAgo}
          OR presence_since >= ${dayAgo})::int AS seen24h
      FROM devices WHERE project_id = ${projectId}::uuid`),
    prisma.$queryRaw<{ bytes: string; objects: number }[]>(Prisma.sql`
      SELECT coalesce(sum(stored_bytes), 0)::text AS bytes, coalesce(sum(stored_files), 0)::int AS objects
      FROM sessions WHERE project_id = ${projectId}::uuid`),
    // Named stores: the latest upload of each object devices put there (store.upload audit entries).
    prisma.$queryRaw<{ store: string; bytes: string; objects: number }[]>(Prisma.sql`
      SELECT store, coalesce(sum(size), 0)::text AS bytes, count(*)::int AS objects FROM (
        SELECT DISTINCT ON (target_id) details->>'store' AS store, (details->>'size')::bigint AS size
        FROM audit_log WHERE project_id = ${projectId}::uuid AND action = 'store.upload'
        ORDER BY target_id, at DESC
      ) latest GROUP BY store ORDER BY store`),
    prisma.$queryRaw<{ serial: string; files: number; bytes: string }[]>(Prisma.sql`
      SELECT d.serial, t.files, t.bytes::text AS bytes FROM (
        SELECT device_id, sum(files)::int AS files, sum(bytes) AS bytes
        FROM file_arrivals WHERE project_id = ${projectId}::uuid AND hour >= ${from}
        GROUP BY device_id ORDER BY bytes DESC LIMIT ${TOP}
      ) t JOIN devices d ON d.id = t.device_id ORDER BY t.bytes DESC, d.serial`),
    // A device agent may add "backlog": {"files": n, "bytes": n} to its status reports.
    prisma.$queryRaw<{ serial: string; files: number | null; bytes: string | null; at: Date }[]>(Prisma.sql`
      SELECT serial, files, bytes, at FROM (
        SELECT DISTINCT ON (actor_label) actor_label AS serial, at,
          CASE WHEN jsonb_typeof(details->'report'->'backlog'->'files') = 'number'
            THEN (details->'report'->'backlog'->>'files')::numeric::bigint::int END AS files,
          CASE WHEN jsonb_typeof(details->'report'->'backlog'->'bytes') = 'number'
            THEN (details->'report'->'backlog'->>'bytes')::numeric::bigint::text END AS bytes
        FROM audit_log
        WHERE project_id = ${projectId}::uuid AND action = 'device.status_report' AND at >= ${new Date(now.getTime() - 7 * 86_400_000)}
          AND jsonb_typeof(details->'report'->'backlog') = 'object'
        ORDER BY actor_label, at DESC
      ) latest WHERE coalesce(files, 0) > 0 OR coalesce(bytes::numeric, 0) > 0
      ORDER BY coalesce(bytes::numeric, 0) DESC, files DESC NULLS LAST LIMIT ${TOP}`),
  ]);
  const d = devices[0] ?? { total: 0, online: 0, offline: 0, seen24h: 0 };
  return {
    range: options.query.range,
    bucket,
    from: from.toISOString(),
    arrivals: arrivals.map((row) => ({ at: row.at.toISOString(), files: row.files, bytes: Number(row.bytes) })),
    refusals,
    devices: { ...d, unknown: d.total - d.online - d.offline },
    storage: [
      { store: "sessions", bytes: Number(sessionsStore[0]?.bytes ?? 0), objects: sessionsStore[0]?.objects ?? 0 },
      ...namedStores.map((row) => ({ store: row.store, bytes: Number(row.bytes), objects: row.objects })),
    ],
    topDevices: topDevices.map((row) => ({ serial: row.serial, files: row.files, bytes: Number(row.bytes) })),
    backlogs: backlogs.map((row) => ({
      serial: row.serial,
      files: row.files,
      bytes: row.bytes === null ? null : Number(row.bytes),
      at: row.at.toISOString(),
    })),
  };
}
