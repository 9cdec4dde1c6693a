/**
 * The REST API's contracts (/api/v1, docs/api.md): what each endpoint takes and answers. The
 * route handlers validate with these schemas and the OpenAPI document is generated from them
 * (server/api/openapi-document.ts), so the two cannot drift. Unlike the dashboard's lenient URL
 * parsing (list-queries.ts), bad input is refused with a 400, never replaced by a default.
 */
import { z } from "zod";
import { MAX_COMMANDS, SERVICE_NAME_PATTERN, ZCommandListSchema, ZStatusReportSchema } from "@fleetdrop/shared/protocol/commands";
import { DEVICE_ID_PATTERN } from "@fleetdrop/shared/names";
import { FILE_KINDS, FILE_STATES } from "@/lib/list-queries";

// ---- shared pieces -------------------------------------------------------------------------

const isoDateTime = z.string().meta({ format: "date-time", description: "ISO 8601 instant (UTC)" });
const bytes = z.string().regex(/^\d+$/).meta({ description: "A byte count as a decimal string (may exceed 2^53)" });

const page = z.coerce
  .number({ error: "page must be a whole number from 1" })
  .int({ error: "page must be a whole number from 1" })
  .min(1, { error: "page must be a whole number from 1" })
  .max(100_000, { error: "page is at most 100000" })
  .default(1)
  .meta({ description: "Page number, from 1" });
const dir = z.enum(["asc", "desc"]).optional().meta({ description: "Sort direction (each sort has its own default)" });
const text = z.string().trim().min(1).max(200);
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "Use a date like 2026-12-07" })
  .refine(
    (value) => {
      const parsed = new Date(`${value}T00:00:00.000Z`);
      return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
    },
    { error: "No such date" },
  );

export const ZApiProblemSchema = z
  .object({
    status: z.int().meta({ description: "The HTTP status, repeated" }),
    code: z.string().meta({ description: "Stable machine-readable reason, e.g. invalid_request, not_found, insufficient_scope" }),
    message: z.string().meta({ description: "What went wrong, for people" }),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: "Each invalid field (invalid_request only)" }),
  })
  .meta({ id: "Problem", description: "Every error answer (Content-Type application/problem+json)" });
export type TApiProblem = z.infer<typeof ZApiProblemSchema>;

const paged = <T extends z.ZodType>(item: T) => ({
  items: z.array(item),
  page: z.int(),
  pageSize: z.int(),
  total: z.int().meta({ description: "Items matching the filters, over all pages" }),
});

// ---- path parameters -----------------------------------------------------------------------

export const ZApiSessionParamsSchema = z.object({
  sessionId: z.string().meta({ description: "Session id (an integer)" }),
});
export const ZApiFileParamsSchema = z.object({ fileId: z.string().meta({ description: "File id (a UUID)" }) });
export const ZApiDeviceParamsSchema = z.object({ serial: z.string().meta({ description: "Device serial" }) });
export const ZApiCaptureParamsSchema = z.object({
  requestId: z.string().meta({ description: "The requestId a capture request answered" }),
});

// ---- devices -------------------------------------------------------------------------------

export const ZApiDeviceListQuerySchema = z.strictObject({
  q: text.optional().meta({ description: "Part of the serial or name" }),
  enabled: z.enum(["true", "false"]).optional().meta({ description: "Only enabled (true) or disabled (false) devices" }),
  page,
});
export type TApiDeviceListQuery = z.infer<typeof ZApiDeviceListQuerySchema>;

export const ZApiDeviceSchema = z
  .object({
    serial: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    authMode: z.enum(["password", "certificate"]),
    lastSeenAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
    sessions: z.int(),
    openSessions: z.int(),
  })
  .meta({ id: "Device" });
export const ZApiDeviceListSchema = z.object(paged(ZApiDeviceSchema)).meta({ id: "DeviceList" });

// ---- sessions ------------------------------------------------------------------------------

export const ZApiSessionListQuerySchema = z.strictObject({
  q: text.optional().meta({ description: "Part of the name or device serial, or a session id" }),
  device: text.optional().meta({ description: "Only this device's sessions (serial)" }),
  state: z.enum(["open", "closed"]).optional(),
  from: calendarDate.optional().meta({ description: "Started on or after this day (UTC), yyyy-mm-dd" }),
  to: calendarDate.optional().meta({ description: "Started on or before this day (UTC), yyyy-mm-dd" }),
  sort: z.enum(["started", "name", "files", "bytes", "id"]).default("started"),
  dir,
  page,
});

export const ZApiSessionRowSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    state: z.enum(["open", "closed"]),
    startedAt: isoDateTime,
    endedAt: isoDateTime.nullable(),
    deviceSerial: z.string(),
    deviceName: z.string(),
    files: z.int(),
    pending: z.int().meta({ description: "Files whose upload has not arrived yet" }),
    bytes,
  })
  .meta({ id: "SessionSummary" });
export const ZApiSessionListSchema = z.object(paged(ZApiSessionRowSchema)).meta({ id: "SessionList" });

export const ZApiSessionSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    state: z.enum(["open", "closed"]),
    metadata: z.unknown().meta({ description: "JSON the device attached when it opened the session, or null" }),
    startedAt: isoDateTime,
    endedAt: isoDateTime.nullable(),
    device: z.object({ serial: z.string(), name: z.string(), enabled: z.boolean() }),
    totals: z.object({
      files: z.int(),
      bytes,
      pending: z.int(),
      uploaded: z.int(),
      expired: z.int(),
      failed: z.int(),
    }),
  })
  .meta({ id: "Session" });

const sessionName = z
  .string()
  .trim()
  .min(1, { error: "Enter a session name" })
  .max(200, { error: "Session names are at most 200 characters" });

export const ZApiSessionCreateSchema = z
  .strictObject({
    device: z
      .string()
      .min(1)
      .max(64)
      .regex(DEVICE_ID_PATTERN, { error: "Not a device serial" })
      .meta({ description: "Serial of a device of the project" }),
    name: sessionName,
  })
  .meta({ id: "SessionCreate" });

export const ZApiSessionUpdateSchema = z
  .strictObject({
    name: sessionName.optional(),
    state: z.enum(["open", "closed"]).optional().meta({ description: "closed: devices can no longer upload to it; open: reopen it" }),
  })
  .refine((body) => body.name !== undefined || body.state !== undefined, { error: "Send name, state or both" })
  .meta({ id: "SessionUpdate" });

// ---- files ---------------------------------------------------------------------------------

export const ZApiFileListQuerySchema = z.strictObject({
  path: z
    .string()
    .max(255)
    .regex(/^(?:(?!\.\.?\/)[^/]+\/)*$/, { error: "A folder path ends with '/', e.g. logs/, with no '.' or '..' folders" })
    .default("")
    .meta({ description: "Folder to list ('' for the session's root, else ending with '/')" }),
  q: text.optional().meta({ description: "Part of a file name: searches below `path` instead of listing it" }),
  state: z.enum(FILE_STATES).optional(),
  kind: z.enum(FILE_KINDS).optional(),
  sort: z.enum(["name", "size", "uploaded", "state", "type"]).default("name"),
  dir,
  page,
});

const fileState = z.enum(FILE_STATES);
const fileKind = z.enum(FILE_KINDS);

export const ZApiFileRowSchema = z
  .object({
    id: z.string(),
    filename: z.string().meta({ description: "Full name in the session, with folders (logs/system.log)" }),
    name: z.string().meta({ description: "Last segment of filename" }),
    contentType: z.string(),
    kind: fileKind,
    state: fileState,
    size: bytes.nullable(),
    uploadedAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
  })
  .meta({ id: "FileSummary" });

export const ZApiFileListSchema = z
  .object({
    path: z.string(),
    folders: z.array(z.object({ name: z.string(), path: z.string(), files: z.int(), bytes })),
    ...paged(ZApiFileRowSchema),
    counts: z.object({ all: z.int(), pending: z.int(), uploaded: z.int(), expired: z.int(), failed: z.int() }),
  })
  .meta({ id: "FileList" });

export const ZApiFileSchema = z
  .object({
    id: z.string(),
    sessionId: z.int(),
    sessionName: z.string(),
    deviceSerial: z.string(),
    filename: z.string(),
    name: z.string(),
    contentType: z.string(),
    kind: fileKind,
    state: fileState,
    size: bytes.nullable(),
    etag: z.string().nullable(),
    uploadedAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
    userData: z.unknown().meta({ description: "JSON the device attached to the file, or null" }),
  })
  .meta({ id: "File" });

export const ZApiDownloadUrlSchema = z
  .object({
    url: z.string().meta({ description: "GET this URL (no token needed) before expiresAt to download the file" }),
    expiresAt: isoDateTime,
  })
  .meta({ id: "DownloadUrl" });

// ---- captures ------------------------------------------------------------------------------

export const ZApiCaptureRequestSchema = z
  .object({
    requestId: z.string(),
    sessionId: z.int(),
    presence: z.object({
      state: z.enum(["online", "offline"]),
      source: z.enum(["presence", "last_seen"]).meta({ description: "How the state was judged" }),
    }),
  })
  .meta({ id: "CaptureRequest" });

export const ZApiCaptureStatusSchema = z
  .object({
    requestId: z.string(),
    state: z.enum(["waiting", "uploading", "arrived", "timed_out", "offline", "failed"]),
    sessionId: z.int(),
    device: z.string(),
    requestedAt: isoDateTime,
    secondsLeft: z.int(),
    file: z.object({ id: z.string(), filename: z.string(), contentType: z.string(), size: bytes.nullable(), state: z.string() }).nullable(),
  })
  .meta({ id: "CaptureStatus" });

// ---- commands ------------------------------------------------------------------------------

export const ZApiCommandsSendSchema = z
  .strictObject({
    service: z
      .string()
      .regex(SERVICE_NAME_PATTERN, { error: "Use letters, digits, '.', '_' or '-' (at most 64), starting with a letter or digit" })
      .meta({ description: "The device-side service that runs the commands, e.g. monitor" }),
    commands: ZCommandListSchema.meta({ description: `At most ${MAX_COMMANDS} commands, run in order` }),
  })
  .meta({ id: "CommandsSend" });

export const ZApiCommandsSentSchema = z
  .object({
    requestId: z.string(),
    objectKey: z.string().meta({ description: "Where the list was stored for the device to fetch" }),
    notified: z.boolean().meta({ description: "False: the broker was unavailable; the device runs them when it next fetches" }),
  })
  .meta({ id: "CommandsSent" });

export const ZApiCommandEventSchema = z
  .discriminatedUnion("kind", [
    z.object({
      kind: z.literal("sent"),
      id: z.string(),
      at: isoDateTime,
      by: z.string(),
      service: z.string(),
      requestId: z.string(),
      commands: z.array(z.object({ command: z.string() })),
      notified: z.boolean(),
    }),
    z.object({
      kind: z.literal("report"),
      id: z.string(),
      at: isoDateTime,
      service: z.string(),
      etag: z.string(),
      report: ZStatusReportSchema.nullable().meta({ description: "The device's status report, or null when it could not be read" }),
      error: z.string().nullable(),
    }),
  ])
  .meta({ id: "CommandEvent" });
export const ZApiCommandHistorySchema = z
  .object({ items: z.array(ZApiCommandEventSchema).meta({ description: "Newest first, at most 50" }) })
  .meta({ id: "CommandHistory" });
