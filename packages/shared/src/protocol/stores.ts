/**
 * docs/protocol.md#stores, named stores: downloads (`P/fleet/D/file_download/request` →
 * `P/fleet/D/file_download/response`), uploads into a store (file_upload/request with `store`
 * instead of `session_id`), and the paths a device may use in a store.
 */
import { z } from "zod";
import { ERROR_CATALOG, type TErrorCode } from "../errors";
import { utf8Length } from "../names";
import { ZRequestIdSchema, ZResponseEnvelopeSchema } from "./common";
import { ZContentTypeSchema, ZOverwriteSchema, ZSizeMbSchema } from "./upload";

/** The stores a platform has when STORE_CONFIGURATION does not say otherwise. */
export const DEFAULT_STORE_NAMES = ["config", "apps", "incoming", "contents", "status"] as const;

/** Stores whose paths resolve under `{prefix}/{D}/` unless configured otherwise. */
export const DEFAULT_PER_DEVICE_STORES: readonly string[] = ["config", "incoming", "status"];

/**
 * What a device may do in a store: read (download), write (upload) or both. Defaults:
 * `status` is written by devices (reports), every other store is read by them.
 */
export const STORE_ACCESS = ["read", "write", "read-write"] as const;
export type TStoreAccess = (typeof STORE_ACCESS)[number];

export function defaultStoreAccess(name: string): TStoreAccess {
  return name === "status" ? "write" : "read";
}

export const STORE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

export const MAX_STORE_PATH_BYTES = 1024;

/**
 * Why a path cannot be used in a store, or null. `escape` problems (a leading `/`, `.`/`..`
 * parts, `\`) would lead outside what the device may use: answered 403 `path_not_allowed`.
 * The others are malformed: 400 `invalid_path`.
 */
export type TStorePathProblem = { kind: "invalid"; reason: string } | { kind: "escape"; reason: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function storePathProblem(path: string): TStorePathProblem | null {
  if (path.length === 0) return { kind: "invalid", reason: "path must not be empty" };
  if (utf8Length(path) > MAX_STORE_PATH_BYTES) return { kind: "invalid", reason: `path must be at most ${MAX_STORE_PATH_BYTES} bytes` };
  if (CONTROL.test(path)) return { kind: "invalid", reason: "path must not contain control characters" };
  if (path.startsWith("/")) return { kind: "escape", reason: "path must be relative to the store (no leading /)" };
  if (path.includes("\\")) return { kind: "escape", reason: "path must not contain \\" };
  for (const segment of path.split("/")) {
    if (segment === "." || segment === "..") return { kind: "escape", reason: "path must not contain . or .. parts" };
    if (segment === "") return { kind: "invalid", reason: "path must not contain empty parts (// or a trailing /)" };
    if (utf8Length(segment) > 255) return { kind: "invalid", reason: "each part of path must be at most 255 bytes" };
  }
  return null;
}

/** The key of `path` inside a store (relative to the store's prefix). Throws on a bad path. */
export function storeObjectPath(store: { perDevice: boolean }, deviceId: string, path: string): string {
  const problem = storePathProblem(path);
  if (problem) throw new Error(problem.reason);
  return store.perDevice ? `${deviceId}/${path}` : path;
}

const ZStoreNameSchema = z
  .string({ error: ERROR_CATALOG.invalid_store.message })
  .regex(STORE_NAME_PATTERN, { error: ERROR_CATALOG.invalid_store.message });

/** Paths are checked by the handler (storePathProblem) so that escapes answer 403, not 400. */
const ZStorePathSchema = z.string({ error: ERROR_CATALOG.invalid_path.message }).max(4096, { error: ERROR_CATALOG.invalid_path.message });

export const ZDownloadRequestSchema = z.object({
  store: ZStoreNameSchema,
  path: ZStorePathSchema,
  request_id: ZRequestIdSchema.nullish(),
});

export type TDownloadRequest = z.infer<typeof ZDownloadRequestSchema>;

export const DOWNLOAD_REQUEST_FIELD_CODES: Partial<Record<keyof TDownloadRequest, TErrorCode>> = {
  store: "invalid_store",
  path: "invalid_path",
  request_id: "invalid_request_id",
};

export const ZDownloadResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  /** A presigned GET (s3) or the fs store's signed URL. */
  url: z.string().url(),
  expires_in: z.number().int().positive(),
  size: z.number().int().nonnegative(),
  /** Quoted, as S3 returns it. */
  etag: z.string(),
  store: z.string(),
  path: z.string(),
  object_key: z.string(),
  content_type: z.string().optional(),
  last_modified: z.string().optional(),
});

export type TDownloadResponse = z.infer<typeof ZDownloadResponseSchema>;

/** file_upload/request with `store` instead of `session_id`: `filename` is the path inside the store. */
export const ZStoreUploadRequestSchema = z.object({
  store: ZStoreNameSchema,
  filename: ZStorePathSchema,
  content_type: ZContentTypeSchema.nullish(),
  size_mb: ZSizeMbSchema.nullish(),
  request_id: ZRequestIdSchema.nullish(),
  /** Accepted for symmetry with session uploads; a store upload always replaces the object. */
  overwrite: ZOverwriteSchema.nullish(),
});

export type TStoreUploadRequest = z.infer<typeof ZStoreUploadRequestSchema>;

export const STORE_UPLOAD_FIELD_CODES: Partial<Record<keyof TStoreUploadRequest, TErrorCode>> = {
  store: "invalid_store",
  filename: "invalid_path",
  content_type: "invalid_content_type",
  size_mb: "invalid_size",
  request_id: "invalid_request_id",
  overwrite: "invalid_overwrite",
};

export const ZStoreUploadResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  url: z.string().url(),
  fields: z.record(z.string(), z.string()),
  object_key: z.string(),
  expires_in: z.number().int().positive(),
  store: z.string(),
  path: z.string(),
});

export type TStoreUploadResponse = z.infer<typeof ZStoreUploadResponseSchema>;

/** file_upload/complete for an object of a named store: no `file_id` (store objects are not session files). */
export const ZStoreCompleteResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  object_key: z.string(),
  state: z.literal("uploaded"),
  size: z.number().int().nonnegative(),
  etag: z.string(),
  store: z.string(),
  path: z.string(),
});

export type TStoreCompleteResponse = z.infer<typeof ZStoreCompleteResponseSchema>;
