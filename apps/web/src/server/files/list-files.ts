import "server-only";
import { Prisma } from "@fleetdrop/db";
import { CAN } from "@/lib/roles";
import { fileKind } from "@/lib/file-kind";
import { FILE_PAGE_SIZE, type TFileKind, type TFileListQuery, type TFileState } from "@/lib/list-queries";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { parseSessionId } from "@/server/sessions/get-session";
import { NotFoundError } from "@/server/errors";

export type TFileRow = {
  id: string;
  /** Full name in the session, with folders (`logs/system.log`). */
  filename: string;
  /** Last segment. */
  name: string;
  contentType: string;
  kind: TFileKind;
  state: TFileState;
  size: string | null;
  uploadedAt: string | null;
  createdAt: string;
};

export type TFolderRow = { name: string; path: string; files: number; bytes: string };

export type TFileList = {
  path: string;
  folders: TFolderRow[];
  rows: TFileRow[];
  total: number;
  page: number;
  pageSize: number;
  /** Files in the whole session, by state (for the live header). */
  counts: Record<TFileState, number> & { all: number };
};

const likeEscape = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

const TYPE = Prisma.sql`lower(coalesce(f.stored_content_type, f.content_type))`;
const KIND_SQL: Record<Exclude<TFileKind, "other">, Prisma.Sql> = {
  image: Prisma.sql`(${TYPE} LIKE 'image/%' OR f.filename ~* '\\.(jpe?g|png|gif|webp|bmp|svg|avif)$')`,
  video: Prisma.sql`(${TYPE} LIKE 'video/%' OR f.filename ~* '\\.(mp4|webm|mov|m4v|ogv)$')`,
  audio: Prisma.sql`(${TYPE} LIKE 'audio/%' OR f.filename ~* '\\.(mp3|wav|ogg|oga|flac|m4a|aac|opus)$')`,
  text: Prisma.sql`(${TYPE} LIKE 'text/%' OR ${TYPE} LIKE '%json%' OR ${TYPE} LIKE '%xml%'
    OR f.filename ~* '\\.(txt|log|csv|tsv|md|ya?ml|ini|cfg|conf|toml|xml|json|jsonl|ndjson)$')`,
};

const ORDER: Record<TFileListQuery["sort"], { sql: Prisma.Sql; defaultDir: "asc" | "desc" }> = {
  name: { sql: Prisma.sql`f.filename`, defaultDir: "asc" },
  size: { sql: Prisma.sql`f.size`, defaultDir: "desc" },
  uploaded: { sql: Prisma.sql`coalesce(f.uploaded_at, f.created_at)`, defaultDir: "desc" },
  state: { sql: Prisma.sql`f.state`, defaultDir: "asc" },
  type: { sql: Prisma.sql`coalesce(f.stored_content_type, f.content_type)`, defaultDir: "asc" },
};

/**
 * One page of a session's files in one folder (folders implied by `/` in file names), or, with
 * a search term, matching files anywhere below that folder. Paged in PostgreSQL so a session
 * with tens of thousands of files costs the same as a small one.
 */
export async function listFiles(options: { ctx: TProjectContext; sessionId: number | string; query: TFileListQuery }): Promise<TFileList> {
  const { ctx, query } = options;
  requireRole(ctx, CAN.browse);
  const sessionId = parseSessionId(options.sessionId);
  const prisma = db();
  const owned = await prisma.session.findFirst({ where: { id: sessionId, projectId: ctx.project.id }, select: { id: true } });
  if (!owned) throw new NotFoundError("No such session");

  const path = query.path;
  const depth = path.length;
  const base: Prisma.Sql[] = [Prisma.sql`f.session_id = ${sessionId}`];
  if (path) base.push(Prisma.sql`f.filename LIKE ${`${likeEscape(path)}%`}`);

  const fileConditions = [...base];
  if (query.q) fileConditions.push(Prisma.sql`substr(f.filename, ${depth + 1}) ILIKE ${`%${likeEscape(query.q)}%`}`);
  else fileConditions.push(Prisma.sql`strpos(substr(f.filename, ${depth + 1}), '/') = 0`);
  if (query.state) fileConditions.push(Prisma.sql`f.state = ${query.state}::file_state`);
  if (query.kind) {
    fileConditions.push(query.kind === "other" ? Prisma.sql`NOT (${Prisma.join(Object.values(KIND_SQL), " OR ")})` : KIND_SQL[query.kind]);
  }
  const where = Prisma.join(fileConditions, " AND ");
  const order = ORDER[query.sort];
  const dir = (query.dir ?? order.defaultDir) === "asc" ? Prisma.sql`ASC NULLS LAST` : Prisma.sql`DESC NULLS LAST`;
  const pageSize = FILE_PAGE_SIZE;
  const offset = (query.page - 1) * pageSize;

  type TRaw = {
    id: string;
    filename: string;
    content_type: string;
    stored_content_type: string | null;
    state: TFileState;
    size: bigint | null;
    uploaded_at: Date | null;
    created_at: Date;
  };
  const [rows, total, folders, states] = await Promise.all([
    prisma.$queryRaw<TRaw[]>`
      SELECT f.id, f.filename, f.content_type, f.stored_content_type, f.state, f.size, f.uploaded_at, f.created_at
        FROM files f WHERE ${where}
       ORDER BY ${order.sql} ${dir}, f.filename ASC
       LIMIT ${pageSize} OFFSET ${offset}`,
    prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM files f WHERE ${where}`,
    query.q
      ? Promise.resolve([] as { name: string; files: number; bytes: bigint }[])
      : prisma.$queryRaw<{ name: string; files: number; bytes: bigint }[]>`
          SELECT split_part(substr(f.filename, ${depth + 1}), '/', 1) AS name, count(*)::int AS files,
                 coalesce(sum(f.size), 0)::bigint AS bytes
            FROM files f WHERE ${Prisma.join(base, " AND ")} AND strpos(substr(f.filename, ${depth + 1}), '/') > 0
           GROUP BY 1 ORDER BY 1 LIMIT 1000`,
    prisma.file.groupBy({ by: ["state"], where: { sessionId }, _count: { _all: true } }),
  ]);

  const counts = { all: 0, pending: 0, uploaded: 0, expired: 0, failed: 0 };
  for (const s of states) {
    counts[s.state] = s._count._all;
    counts.all += s._count._all;
  }

  return {
    path,
    folders: folders.map((f) => ({ name: f.name, path: `${path}${f.name}/`, files: f.files, bytes: f.bytes.toString() })),
    rows: rows.map((r) => {
      const contentType = r.stored_content_type ?? r.content_type;
      return {
        id: r.id,
        filename: r.filename,
        name: r.filename.slice(r.filename.lastIndexOf("/") + 1),
        contentType,
        kind: fileKind(r.filename, contentType),
        state: r.state,
        size: r.size?.toString() ?? null,
        uploadedAt: r.uploaded_at?.toISOString() ?? null,
        createdAt: r.created_at.toISOString(),
      };
    }),
    total: total[0]?.n ?? 0,
    page: query.page,
    pageSize,
    counts,
  };
}
