/**
 * Every endpoint of the REST API once: method, path, the scope it needs, and the schemas of its
 * path parameters, query, body and answers. Route handlers are built from these entries
 * (server/api/with-api-token.ts validates with them) and the OpenAPI document is generated from
 * them; a test checks that each route file serves exactly the entries for its path.
 */
import type { z } from "zod";
import * as S from "./schemas";

export type TApiScope = "read" | "write";

export type TApiOperation = {
  method: "GET" | "POST" | "PATCH";
  /** OpenAPI path template below /api/v1, e.g. `/sessions/{sessionId}`. */
  path: string;
  /** Read: GET only. Every other method needs a read-and-write token (checked by the wrapper too). */
  scope: TApiScope;
  summary: string;
  description?: string;
  tag: "Devices" | "Sessions" | "Files" | "Captures" | "Commands";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success answer: status, and a JSON schema or a binary content type. */
  success: { status: 200 | 201 | 202; schema: z.ZodType; description: string } | { status: 200; binary: string; description: string };
  /** Error answers worth naming besides 401, 403, 404 for missing ids and 429. */
  errors?: 400[];
};

const op = <T extends TApiOperation>(operation: T) => operation;

export const API_OPERATIONS = {
  listDevices: op({
    method: "GET",
    path: "/devices",
    scope: "read",
    tag: "Devices",
    summary: "List the project's devices",
    description: "By serial, 50 per page.",
    query: S.ZApiDeviceListQuerySchema,
    success: { status: 200, schema: S.ZApiDeviceListSchema, description: "One page of devices" },
    errors: [400],
  }),
  listSessions: op({
    method: "GET",
    path: "/sessions",
    scope: "read",
    tag: "Sessions",
    summary: "List sessions",
    description: "Filtered and sorted like the dashboard's Sessions page, 50 per page.",
    query: S.ZApiSessionListQuerySchema,
    success: { status: 200, schema: S.ZApiSessionListSchema, description: "One page of sessions" },
    errors: [400],
  }),
  createSession: op({
    method: "POST",
    path: "/sessions",
    scope: "write",
    tag: "Sessions",
    summary: "Open a session for a device",
    body: S.ZApiSessionCreateSchema,
    success: { status: 201, schema: S.ZApiSessionSchema, description: "The new session" },
    errors: [400],
  }),
  getSession: op({
    method: "GET",
    path: "/sessions/{sessionId}",
    scope: "read",
    tag: "Sessions",
    summary: "A session with its file totals",
    params: S.ZApiSessionParamsSchema,
    success: { status: 200, schema: S.ZApiSessionSchema, description: "The session" },
  }),
  updateSession: op({
    method: "PATCH",
    path: "/sessions/{sessionId}",
    scope: "write",
    tag: "Sessions",
    summary: "Rename, close or reopen a session",
    params: S.ZApiSessionParamsSchema,
    body: S.ZApiSessionUpdateSchema,
    success: { status: 200, schema: S.ZApiSessionSchema, description: "The session after the change" },
    errors: [400],
  }),
  listFiles: op({
    method: "GET",
    path: "/sessions/{sessionId}/files",
    scope: "read",
    tag: "Files",
    summary: "List a session's files",
    description: "One folder at a time (folders are implied by '/' in file names), or with q a search below it; 100 per page.",
    params: S.ZApiSessionParamsSchema,
    query: S.ZApiFileListQuerySchema,
    success: { status: 200, schema: S.ZApiFileListSchema, description: "One page of files, and the folder's sub-folders" },
    errors: [400],
  }),
  downloadSession: op({
    method: "GET",
    path: "/sessions/{sessionId}/archive",
    scope: "read",
    tag: "Sessions",
    summary: "The session's uploaded files as one zip",
    description: "Streamed; uncompressed entries, ZIP64 beyond 4 GiB. Written to the audit log.",
    params: S.ZApiSessionParamsSchema,
    success: { status: 200, binary: "application/zip", description: "The zip" },
  }),
  requestCapture: op({
    method: "POST",
    path: "/sessions/{sessionId}/captures",
    scope: "write",
    tag: "Captures",
    summary: "Ask the session's device to capture now",
    description: "The device uploads into the session; poll GET /captures/{requestId} for the outcome.",
    params: S.ZApiSessionParamsSchema,
    success: { status: 202, schema: S.ZApiCaptureRequestSchema, description: "The request was sent to the device" },
    errors: [400],
  }),
  getCapture: op({
    method: "GET",
    path: "/captures/{requestId}",
    scope: "read",
    tag: "Captures",
    summary: "Where a capture request stands",
    params: S.ZApiCaptureParamsSchema,
    success: { status: 200, schema: S.ZApiCaptureStatusSchema, description: "The request's state, and the file once it arrived" },
  }),
  getFile: op({
    method: "GET",
    path: "/files/{fileId}",
    scope: "read",
    tag: "Files",
    summary: "A file's metadata",
    params: S.ZApiFileParamsSchema,
    success: { status: 200, schema: S.ZApiFileSchema, description: "The file" },
  }),
  getFileDownloadUrl: op({
    method: "GET",
    path: "/files/{fileId}/download-url",
    scope: "read",
    tag: "Files",
    summary: "A short-lived URL to download the file",
    description: "Presigned by the storage; valid for DOWNLOAD_URL_TTL_SECONDS. Written to the audit log as a download.",
    params: S.ZApiFileParamsSchema,
    success: { status: 200, schema: S.ZApiDownloadUrlSchema, description: "The URL" },
    errors: [400],
  }),
  listCommands: op({
    method: "GET",
    path: "/devices/{serial}/commands",
    scope: "read",
    tag: "Commands",
    summary: "A device's command lists and their results",
    description: "The lists sent and the status reports the device uploaded, newest first.",
    params: S.ZApiDeviceParamsSchema,
    success: { status: 200, schema: S.ZApiCommandHistorySchema, description: "The history" },
  }),
  sendCommands: op({
    method: "POST",
    path: "/devices/{serial}/commands",
    scope: "write",
    tag: "Commands",
    summary: "Send a command list to a device",
    description: "Stored as incoming/{device}/{service}/commands.json, then the device is told over MQTT.",
    params: S.ZApiDeviceParamsSchema,
    body: S.ZApiCommandsSendSchema,
    success: { status: 202, schema: S.ZApiCommandsSentSchema, description: "Stored (and the device notified when the broker answered)" },
    errors: [400],
  }),
} as const;

export type TApiOperationName = keyof typeof API_OPERATIONS;
