/**
 * Multipart uploads over HTTPS (docs/protocol.md#multipart-uploads):
 * `P/fleet/D/file_upload/multipart/create|parts|complete|abort` → `P/fleet/D/file_upload/multipart/response`.
 * The device PUTs each part to a presigned URL, in any order and in parallel; the worker
 * completes the upload and verifies its size (and SHA-256 when given).
 */
import { z } from "zod";
import { ERROR_CATALOG, type TErrorCode } from "../errors";
import { ZRequestIdSchema, ZResponseEnvelopeSchema } from "./common";
import { ZFileSizeSchema, ZSha256Schema } from "./transfer";
import { FILE_STATES, MIB, ZContentTypeSchema, ZFilenameSchema, ZOverwriteSchema, ZSessionIdSchema } from "./upload";

/** S3's limits, which every store keeps: 10,000 parts of 5 MiB to 5 GiB, objects up to 5 TiB. */
export const MULTIPART_MIN_PART_SIZE = 5 * MIB;
export const MULTIPART_MAX_PART_SIZE = 5 * 1024 * MIB;
export const MULTIPART_MAX_PARTS = 10_000;
export const MULTIPART_HARD_MAX_FILE_SIZE = 5 * 1024 * 1024 * MIB;
/** The part size the worker picks when the device names none (raised so that 10,000 parts hold the file). */
export const MULTIPART_DEFAULT_PART_SIZE = 64 * MIB;
/** Part URLs in one answer, at most (and by default). */
export const MULTIPART_PAGE_MAX = 100;

/** The part size for `size` bytes when the device names none: 64 MiB, or the least whole MiB that fits 10,000 parts. */
export function defaultPartSize(size: number): number {
  return Math.max(MULTIPART_DEFAULT_PART_SIZE, Math.ceil(size / MULTIPART_MAX_PARTS / MIB) * MIB);
}

export const UPLOAD_ID_PATTERN = /^mp_[0-9a-f]{32}$/;

export const ZUploadIdSchema = z
  .string({ error: ERROR_CATALOG.invalid_upload_id.message })
  .regex(UPLOAD_ID_PATTERN, { error: ERROR_CATALOG.invalid_upload_id.message });

const ZPartSizeSchema = z
  .number({ error: ERROR_CATALOG.invalid_part_size.message })
  .int({ error: ERROR_CATALOG.invalid_part_size.message })
  .min(MULTIPART_MIN_PART_SIZE, { error: ERROR_CATALOG.invalid_part_size.message })
  .max(MULTIPART_MAX_PART_SIZE, { error: ERROR_CATALOG.invalid_part_size.message })
  .refine((value) => value % MIB === 0, { error: ERROR_CATALOG.invalid_part_size.message });

const ZPartNumberSchema = z
  .number({ error: ERROR_CATALOG.invalid_part_number.message })
  .int({ error: ERROR_CATALOG.invalid_part_number.message })
  .min(1, { error: ERROR_CATALOG.invalid_part_number.message })
  .max(MULTIPART_MAX_PARTS, { error: ERROR_CATALOG.invalid_part_number.message });

export const ZMultipartCreateSchema = z.object({
  session_id: ZSessionIdSchema,
  filename: ZFilenameSchema,
  content_type: ZContentTypeSchema.nullish(),
  size: ZFileSizeSchema.refine((value) => value >= 1, { error: "size must be a whole number of bytes from 1" }),
  part_size: ZPartSizeSchema.nullish(),
  sha256: ZSha256Schema.nullish(),
  overwrite: ZOverwriteSchema.nullish(),
  request_id: ZRequestIdSchema.nullish(),
});
export type TMultipartCreate = z.infer<typeof ZMultipartCreateSchema>;

export const MULTIPART_CREATE_FIELD_CODES: Partial<Record<keyof TMultipartCreate, TErrorCode>> = {
  session_id: "invalid_session_id",
  filename: "invalid_filename",
  content_type: "invalid_content_type",
  size: "invalid_file_size",
  part_size: "invalid_part_size",
  sha256: "invalid_checksum",
  overwrite: "invalid_overwrite",
  request_id: "invalid_request_id",
};

export const ZMultipartPartsSchema = z.object({
  upload_id: ZUploadIdSchema,
  /** The first part number of the page (default 1). */
  first_part: ZPartNumberSchema.nullish(),
  /** Part numbers in the page (default and at most MULTIPART_PAGE_MAX). */
  count: z
    .number({ error: `count must be an integer from 1 to ${MULTIPART_PAGE_MAX}` })
    .int({ error: `count must be an integer from 1 to ${MULTIPART_PAGE_MAX}` })
    .min(1, { error: `count must be an integer from 1 to ${MULTIPART_PAGE_MAX}` })
    .max(MULTIPART_PAGE_MAX, { error: `count must be an integer from 1 to ${MULTIPART_PAGE_MAX}` })
    .nullish(),
  request_id: ZRequestIdSchema.nullish(),
});
export type TMultipartParts = z.infer<typeof ZMultipartPartsSchema>;

export const MULTIPART_PARTS_FIELD_CODES: Partial<Record<keyof TMultipartParts, TErrorCode>> = {
  upload_id: "invalid_upload_id",
  first_part: "invalid_part_number",
  request_id: "invalid_request_id",
};

/** `complete` and `abort` name the upload only. */
export const ZMultipartCommandSchema = z.object({ upload_id: ZUploadIdSchema, request_id: ZRequestIdSchema.nullish() });
export type TMultipartCommand = z.infer<typeof ZMultipartCommandSchema>;

export const MULTIPART_COMMAND_FIELD_CODES: Partial<Record<keyof TMultipartCommand, TErrorCode>> = {
  upload_id: "invalid_upload_id",
  request_id: "invalid_request_id",
};

/** A page of the upload's parts: those held, and a presigned URL for each one missing. */
export const ZMultipartPageSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  upload_id: z.string(),
  file_id: z.string(),
  object_key: z.string(),
  size: z.number().int().positive(),
  part_size: z.number().int().positive(),
  part_count: z.number().int().positive(),
  /** Seconds the URLs of this page stay valid. */
  expires_in: z.number().int().positive(),
  /** Part numbers of this page storage already holds: not to be sent again. */
  held: z.array(z.number().int().positive()),
  /** A URL to PUT each missing part of this page to (exactly its bytes, any order, in parallel). */
  parts: z.array(z.object({ part_number: z.number().int().positive(), url: z.string().url() })),
  /** The first part number of the next page, or null after the last. */
  next_part: z.number().int().positive().nullable(),
});
export type TMultipartPage = z.infer<typeof ZMultipartPageSchema>;

export const ZMultipartCompleteResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  upload_id: z.string(),
  file_id: z.string(),
  object_key: z.string(),
  state: z.enum(FILE_STATES),
  size: z.number().int().nonnegative(),
  etag: z.string(),
});
export type TMultipartCompleteResponse = z.infer<typeof ZMultipartCompleteResponseSchema>;

export const ZMultipartAbortResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  upload_id: z.string(),
  state: z.literal("aborted"),
});
