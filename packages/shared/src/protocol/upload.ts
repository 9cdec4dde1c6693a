/**
 * Presigned upload (docs/protocol.md#file_uploadrequest): `P/fleet/D/file_upload/request` → `P/fleet/D/file_upload/response`,
 * and the optional completion report on `P/fleet/D/file_upload/complete`.
 */
import { z } from "zod";
import { ERROR_CATALOG, type TErrorCode } from "../errors";
import { DEFAULT_CONTENT_TYPE, describeFilenameProblem, filenameProblem, isValidContentType, normaliseFilename } from "../names";
import { ZRequestIdSchema, ZResponseEnvelopeSchema, ZSha256Schema } from "./common";

/** Default and hard ceiling of `size_mb` (5120 MiB is S3's single-POST limit). */
export const DEFAULT_MAX_UPLOAD_MB = 100;
export const HARD_MAX_UPLOAD_MB = 5120;
export const MIB = 1024 * 1024;
export const DEFAULT_UPLOAD_EXPIRES_IN = 3600;

export const ZSessionIdSchema = z
  .number({ error: ERROR_CATALOG.invalid_session_id.message })
  .int({ error: ERROR_CATALOG.invalid_session_id.message })
  .positive({ error: ERROR_CATALOG.invalid_session_id.message });

/** A file name, normalised to NFC (names.ts) and then checked: the parsed value is the NFC form. */
export const ZFilenameSchema = z
  .string({ error: "filename must be a string" })
  .overwrite(normaliseFilename)
  .superRefine((name, ctx) => {
    const problem = filenameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: describeFilenameProblem(problem) });
  });

export const ZContentTypeSchema = z
  .string({ error: ERROR_CATALOG.invalid_content_type.message })
  .refine(isValidContentType, { error: ERROR_CATALOG.invalid_content_type.message });

/** `size_mb` of an upload request (session uploads, and store uploads). */
export const ZSizeMbSchema = z
  .number({ error: ERROR_CATALOG.invalid_size.message })
  .int({ error: ERROR_CATALOG.invalid_size.message })
  .min(1, { error: ERROR_CATALOG.invalid_size.message });

/** `overwrite` of an upload request (session uploads, and store uploads). */
export const ZOverwriteSchema = z.boolean({ error: ERROR_CATALOG.invalid_overwrite.message });

export const ZUploadRequestSchema = z.object({
  session_id: ZSessionIdSchema,
  filename: ZFilenameSchema,
  content_type: ZContentTypeSchema.nullish(),
  size_mb: ZSizeMbSchema.nullish(),
  request_id: ZRequestIdSchema.nullish(),
  overwrite: ZOverwriteSchema.nullish(),
  /** How the file is sent, for the dashboard: `"agent"` when a device agent asks (docs/protocol.md). */
  via: z.enum(["agent"]).nullish(),
  /** The file's SHA-256: the form binds it, so storage refuses other bytes; recorded with the file. */
  sha256: ZSha256Schema.nullish(),
});

export type TUploadRequest = z.infer<typeof ZUploadRequestSchema>;

export const UPLOAD_REQUEST_FIELD_CODES: Partial<Record<keyof TUploadRequest, TErrorCode>> = {
  session_id: "invalid_session_id",
  filename: "invalid_filename",
  content_type: "invalid_content_type",
  size_mb: "invalid_size",
  request_id: "invalid_request_id",
  overwrite: "invalid_overwrite",
  via: "invalid_payload",
  sha256: "invalid_checksum",
};

/** The request with its defaults applied (what the platform signs). */
export function normaliseUploadRequest(request: TUploadRequest, maxUploadMb: number) {
  return {
    sessionId: request.session_id,
    filename: request.filename,
    contentType: request.content_type ?? DEFAULT_CONTENT_TYPE,
    sizeMb: request.size_mb ?? maxUploadMb,
    requestId: request.request_id ?? undefined,
    overwrite: request.overwrite === true,
    /** What the file row records as how it arrived. */
    arrivedVia: request.via === "agent" ? ("agent" as const) : ("form" as const),
    /** Lower-case hex, or undefined. */
    sha256: request.sha256 ?? undefined,
  };
}

export const ZUploadResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  url: z.string().url(),
  fields: z.record(z.string(), z.string()),
  object_key: z.string(),
  expires_in: z.number().int().positive(),
  file_id: z.string(),
});

export type TUploadResponse = z.infer<typeof ZUploadResponseSchema>;

export const ZUploadCompleteSchema = z.object({
  object_key: z.string({ error: ERROR_CATALOG.invalid_object_key.message }).min(1).max(1024),
  request_id: ZRequestIdSchema.nullish(),
});

export type TUploadComplete = z.infer<typeof ZUploadCompleteSchema>;

export const UPLOAD_COMPLETE_FIELD_CODES: Partial<Record<keyof TUploadComplete, TErrorCode>> = {
  object_key: "invalid_object_key",
  request_id: "invalid_request_id",
};

export const FILE_STATES = ["pending", "uploaded", "expired", "failed"] as const;
export type TFileState = (typeof FILE_STATES)[number];

export const ZUploadCompleteResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  object_key: z.string(),
  file_id: z.string(),
  state: z.enum(FILE_STATES),
  size: z.number().int().nonnegative(),
  etag: z.string().optional(),
});

export type TUploadCompleteResponse = z.infer<typeof ZUploadCompleteResponseSchema>;
