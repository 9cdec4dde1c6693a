/**
 * URL search parameters of the list pages, parsed the same way on the server (the authority)
 * and in the browser (query keys). Bad values fall back to defaults rather than failing.
 */
import { z } from "zod";

const page = z.coerce.number().int().min(1).max(100_000).catch(1);
const dir = z.enum(["asc", "desc"]).optional().catch(undefined);
const text = z.string().trim().max(200).optional().catch(undefined);
/** An ISO calendar date (yyyy-mm-dd) that exists: 2026-02-31 is refused, not rolled over. */
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((value) => {
    const parsed = new Date(`${value}T00:00:00.000Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
  })
  .optional()
  .catch(undefined);

/** An instant in ISO 8601 UTC (what the overview's chart buckets carry), e.g. 2026-12-06T10:00:00.000Z. */
const instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/)
  .refine((value) => !Number.isNaN(new Date(value).getTime()))
  .optional()
  .catch(undefined);

const SESSION_SORTS = ["started", "name", "files", "bytes", "id"] as const;
export type TSessionSort = (typeof SESSION_SORTS)[number];

export const ZSessionListQuerySchema = z.object({
  q: text,
  device: text,
  state: z.enum(["open", "closed"]).optional().catch(undefined),
  from: date,
  to: date,
  /** Sessions with a file that arrived (became uploaded) in [arrivedFrom, arrivedTo): the overview's arrival bars. */
  arrivedFrom: instant,
  arrivedTo: instant,
  sort: z.enum(SESSION_SORTS).catch("started").default("started"),
  dir,
  page,
});
export type TSessionListQuery = z.infer<typeof ZSessionListQuerySchema>;

const FILE_SORTS = ["name", "size", "uploaded", "state", "type"] as const;
export type TFileSort = (typeof FILE_SORTS)[number];
export const FILE_STATES = ["pending", "uploaded", "expired", "failed"] as const;
export type TFileState = (typeof FILE_STATES)[number];
export const FILE_KINDS = ["image", "video", "audio", "text", "other"] as const;
export type TFileKind = (typeof FILE_KINDS)[number];

export const ZFileListQuerySchema = z.object({
  /** Folder being browsed, '' for the session's root, else ending with '/'. */
  path: z
    .string()
    .max(255)
    .regex(/^([^/]+\/)*$/)
    .catch("")
    .default(""),
  q: text,
  state: z.enum(FILE_STATES).optional().catch(undefined),
  kind: z.enum(FILE_KINDS).optional().catch(undefined),
  sort: z.enum(FILE_SORTS).catch("name").default("name"),
  dir,
  page,
});
export type TFileListQuery = z.infer<typeof ZFileListQuerySchema>;
/** Values left out of Files URLs (they are the defaults). */
export const FILE_QUERY_DEFAULTS = { path: "", sort: "name", page: 1 };

export const ZAuditListQuerySchema = z.object({
  action: text,
  actor: text,
  from: date,
  to: date,
  page,
});
export type TAuditListQuery = z.infer<typeof ZAuditListQuerySchema>;

/** Next's searchParams (string | string[]) → plain strings for the schemas above. */
export function firstValues(params: Record<string, string | string[] | undefined> | URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  if (params instanceof URLSearchParams) {
    for (const [key, value] of params) if (value !== "") out[key] ??= value;
    return out;
  }
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== "") out[key] = first;
  }
  return out;
}

/** A query back to a URL search string, leaving out defaults and empty values. */
export function toSearch(query: Record<string, string | number | undefined | null>, defaults: Record<string, unknown> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "" || defaults[key] === value) continue;
    params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

export const SESSION_PAGE_SIZE = 50;
export const FILE_PAGE_SIZE = 100;
export const AUDIT_PAGE_SIZE = 50;
