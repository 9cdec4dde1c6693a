/**
 * File transfer over MQTT (docs/protocol.md#file_transfer): `P/fleet/D/file_transfer/{file_id}/init|{offset}|fin/…|status|abort`
 * → `P/fleet/D/file_transfer/response`. Byte ranges are half-open `[start, end)` pairs.
 */
import { z } from "zod";
import { ERROR_CATALOG, type TErrorCode } from "../errors";
import { DEFAULT_CONTENT_TYPE } from "../names";
import { ZExistingFileSchema, ZRequestIdSchema, ZResponseEnvelopeSchema, ZSha256Schema } from "./common";
import { ZContentTypeSchema, ZFilenameSchema, ZOverwriteSchema, ZSessionIdSchema } from "./upload";

export const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// Shared with the form and multipart uploads; kept in common.ts (upload.ts cannot import this file).
export { SHA256_HEX_PATTERN, ZSha256Schema } from "./common";

export const TRANSFER_COMMANDS = ["init", "segment", "fin", "status", "abort"] as const;
export type TTransferCommand = (typeof TRANSFER_COMMANDS)[number];

export const TRANSFER_STATES = ["active", "completed"] as const;
export type TTransferState = (typeof TRANSFER_STATES)[number];

export function isValidFileId(value: unknown): value is string {
  return typeof value === "string" && FILE_ID_PATTERN.test(value);
}

export const ZFileSizeSchema = z
  .number({ error: ERROR_CATALOG.invalid_file_size.message })
  .int({ error: ERROR_CATALOG.invalid_file_size.message })
  .min(0, { error: ERROR_CATALOG.invalid_file_size.message })
  .max(Number.MAX_SAFE_INTEGER, { error: ERROR_CATALOG.invalid_file_size.message });

export const ZTransferInitSchema = z.object({
  session_id: ZSessionIdSchema,
  name: ZFilenameSchema,
  size: ZFileSizeSchema.nullish(),
  content_type: ZContentTypeSchema.nullish(),
  checksum: ZSha256Schema.nullish(),
  /** Any JSON the device wants kept with the file (shown in the dashboard). */
  user_data: z.unknown().optional(),
  /** `true`: the file replaces one already uploaded under this name (as `overwrite` of an upload request). */
  overwrite: ZOverwriteSchema.nullish(),
  request_id: ZRequestIdSchema.nullish(),
});

export type TTransferInit = z.infer<typeof ZTransferInitSchema>;

export const TRANSFER_INIT_FIELD_CODES: Partial<Record<keyof TTransferInit, TErrorCode>> = {
  session_id: "invalid_session_id",
  name: "invalid_filename",
  size: "invalid_file_size",
  content_type: "invalid_content_type",
  checksum: "invalid_checksum",
  overwrite: "invalid_overwrite",
  request_id: "invalid_request_id",
};

/** The init with its defaults applied: what a re-init is compared against. */
export function normaliseTransferInit(init: TTransferInit) {
  return {
    sessionId: init.session_id,
    name: init.name,
    size: init.size ?? null,
    contentType: init.content_type ?? DEFAULT_CONTENT_TYPE,
    checksum: init.checksum ?? null,
    userData: init.user_data === undefined || init.user_data === null ? null : init.user_data,
    overwrite: init.overwrite === true,
  };
}

/** `fin`, `status` and `abort` carry no payload; a JSON object with a request_id is accepted too. */
export const ZTransferCommandSchema = z.object({
  request_id: ZRequestIdSchema.nullish(),
});

export const TRANSFER_COMMAND_FIELD_CODES: Partial<Record<"request_id", TErrorCode>> = {
  request_id: "invalid_request_id",
};

export const ZByteRangeSchema = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);
export type TByteRange = [start: number, end: number];

export const ZTransferResponseSchema = ZResponseEnvelopeSchema.extend({
  file_id: z.string(),
  command: z.enum(TRANSFER_COMMANDS),
  offset: z.number().int().nonnegative().optional(),
  code: z.string().optional(),
  error: z.string().optional(),
  /** Byte ranges the platform holds. */
  received: z.array(ZByteRangeSchema).optional(),
  /** On a 409 `incomplete` fin: the ranges still to send. */
  missing: z.array(ZByteRangeSchema).optional(),
  /** On a 409 `file_exists` init or fin: the file stored under the name. */
  existing: ZExistingFileSchema.optional(),
  /** On status and init: the transfer's state and its size when known. */
  state: z.enum(TRANSFER_STATES).optional(),
  size: z.number().int().nonnegative().nullable().optional(),
  /** On a successful fin: where the file is stored and what it is. */
  object_key: z.string().optional(),
  sha256: z.string().optional(),
  etag: z.string().optional(),
});

export type TTransferResponse = z.infer<typeof ZTransferResponseSchema>;

/** Sorts and merges ranges (touching ranges join); drops empty ones. */
export function mergeRanges(ranges: Iterable<readonly [number, number]>): TByteRange[] {
  const sorted = [...ranges].filter(([start, end]) => end > start).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: TByteRange[] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** The parts of `[0, size)` that `received` does not cover. */
export function missingRanges(received: Iterable<readonly [number, number]>, size: number): TByteRange[] {
  const missing: TByteRange[] = [];
  let position = 0;
  for (const [start, end] of mergeRanges(received)) {
    if (start >= size) break;
    if (start > position) missing.push([position, start]);
    position = Math.max(position, end);
  }
  if (position < size) missing.push([position, size]);
  return missing;
}

/** Bytes covered by the ranges (after merging). */
export function coveredBytes(ranges: Iterable<readonly [number, number]>): number {
  return mergeRanges(ranges).reduce((sum, [start, end]) => sum + end - start, 0);
}

/** Splits ranges into segments of at most `segmentSize` bytes: `[offset, length]` pairs. */
export function* segmentsOf(ranges: Iterable<readonly [number, number]>, segmentSize: number): Generator<[offset: number, length: number]> {
  if (!Number.isInteger(segmentSize) || segmentSize < 1) throw new Error("segmentSize must be a positive integer");
  for (const [start, end] of mergeRanges(ranges)) {
    for (let offset = start; offset < end; offset += segmentSize) yield [offset, Math.min(segmentSize, end - offset)];
  }
}
