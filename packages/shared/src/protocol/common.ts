/**
 * Rules every device message shares (docs/protocol.md#conventions): payload size and encoding, the response
 * envelope, request ids, and how schema failures become protocol error codes.
 */
import { z } from "zod";
import { ERROR_CATALOG, ProtocolError, type TErrorCode } from "../errors";

/** Every JSON payload is UTF-8 JSON of at most 64 KiB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export const MAX_REQUEST_ID_LENGTH = 64;

export const SHA256_HEX_PATTERN = /^[0-9a-fA-F]{64}$/;

/** A SHA-256 digest a device gives (64 hex digits, either case), parsed to lower case. */
export const ZSha256Schema = z
  .string({ error: ERROR_CATALOG.invalid_checksum.message })
  .regex(SHA256_HEX_PATTERN, { error: ERROR_CATALOG.invalid_checksum.message })
  .transform((hex) => hex.toLowerCase());

export const ZRequestIdSchema = z
  .string({ error: ERROR_CATALOG.invalid_request_id.message })
  .max(MAX_REQUEST_ID_LENGTH, { error: ERROR_CATALOG.invalid_request_id.message });

/** ISO-8601 UTC with milliseconds, e.g. `2025-01-12T10:30:00.000Z`. */
export function protocolTimestamp(date: Date = new Date()): string {
  return date.toISOString();
}

export const ZTimestampSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

export const ZResponseEnvelopeSchema = z.object({
  success: z.boolean(),
  status: z.number().int(),
  timestamp: ZTimestampSchema,
  request_id: z.string().max(MAX_REQUEST_ID_LENGTH).optional(),
});

export const ZErrorResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(false),
  error: z.string().min(1),
  code: z.string().regex(/^[a-z][a-z0-9_]*$/),
  /** With `429 rate_limited`: whole seconds to wait before sending this kind of request again. */
  retry_after: z.number().int().positive().optional(),
});

/** The answer to a request over its device's rate limit. */
export const ZRateLimitedResponseSchema = ZErrorResponseSchema.extend({
  status: z.literal(429),
  code: z.literal("rate_limited"),
  retry_after: z.number().int().positive(),
});

export type TRateLimitedResponse = z.infer<typeof ZRateLimitedResponseSchema>;

export type TErrorResponse = z.infer<typeof ZErrorResponseSchema>;

/**
 * With `409 file_exists`: the file already stored under the requested name, so that a device can
 * tell its own earlier upload (the same size and SHA-256: the answer to it was lost) from a
 * different file (another uploader, an older version). Null where the platform does not know.
 */
export const ZExistingFileSchema = z.object({
  size: z.number().int().nonnegative().nullable(),
  /** Lower-case hex; null when it was never computed for that file. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  uploaded_at: ZTimestampSchema.nullable(),
});

export type TExistingFile = z.infer<typeof ZExistingFileSchema>;

/** The answer `409 file_exists` of an upload request, a multipart create, a transfer init or a transfer fin. */
export const ZFileExistsResponseSchema = ZErrorResponseSchema.extend({
  status: z.literal(409),
  code: z.literal("file_exists"),
  existing: ZExistingFileSchema,
});

export type TFileExistsResponse = z.infer<typeof ZFileExistsResponseSchema>;

/** The `409 file_exists` refusal, carrying what is stored under the name. */
export function fileExistsError(existing: TExistingFile): ProtocolError {
  return new ProtocolError("file_exists", undefined, { existing });
}

export function errorResponse(error: ProtocolError, requestId?: string, now?: Date): TErrorResponse {
  return {
    ...error.details,
    success: false,
    status: error.status,
    timestamp: protocolTimestamp(now),
    ...(requestId === undefined ? {} : { request_id: requestId }),
    error: error.message,
    code: error.code,
  };
}

export function successEnvelope(requestId?: string, now?: Date) {
  return {
    success: true as const,
    status: 200,
    timestamp: protocolTimestamp(now),
    ...(requestId === undefined ? {} : { request_id: requestId }),
  };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A NUL, or a UTF-16 surrogate without its pair: text PostgreSQL cannot store. */
// oxlint-disable-next-line no-control-regex -- PostgreSQL text cannot hold NUL, which is what this pattern finds
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

class UnstorableText extends Error {}

function refuseUnstorable(key: string, value: unknown): unknown {
  if (UNSTORABLE.test(key) || (typeof value === "string" && UNSTORABLE.test(value))) throw new UnstorableText();
  return value;
}

/**
 * Decodes a payload into a JSON object. Throws a ProtocolError (`payload_too_large`,
 * `invalid_json`) a device can act on.
 *
 * Strings (keys included) must be text a database can store: JSON may spell a NUL (`\u0000`) or
 * half of a surrogate pair (`\ud800`) as an escape, and such a value in one request would fail
 * the database statement of every request batched with it. Raw bytes cannot carry them (JSON
 * refuses raw control characters, the UTF-8 decoder unpaired surrogates), so only payloads with
 * a `\u` escape are checked value by value.
 */
export function decodeJsonObject(payload: Uint8Array): Record<string, unknown> {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) throw new ProtocolError("payload_too_large");
  let value: unknown;
  try {
    const text = UTF8.decode(payload);
    value = text.includes("\\u") ? JSON.parse(text, refuseUnstorable) : JSON.parse(text);
  } catch (error) {
    if (error instanceof UnstorableText) {
      throw new ProtocolError("invalid_json", "JSON strings must not contain NUL (\\u0000) or unpaired UTF-16 surrogates");
    }
    throw new ProtocolError("invalid_json", "Payload is not valid UTF-8 JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ProtocolError("invalid_json", "Payload must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** The request id to echo, if the payload carried a usable one (even when it is otherwise bad). */
export function usableRequestId(value: Record<string, unknown> | undefined): string | undefined {
  const id = value?.request_id;
  return typeof id === "string" && id.length <= MAX_REQUEST_ID_LENGTH ? id : undefined;
}

/**
 * Validates a decoded object against a message schema. The first failing field decides the
 * error code through `fieldCodes` (e.g. `filename` → `invalid_filename`), with the schema's
 * sentence as the message; fields without a code give `invalid_payload`.
 */
export function validateMessage<S extends z.ZodType>(
  schema: S,
  value: unknown,
  fieldCodes: Partial<Record<string, TErrorCode>>,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path[0];
  // A refinement may name its own code (e.g. `metadata_too_large` rather than the field's).
  const own = issue?.code === "custom" ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
  const code =
    (typeof own === "string" && own in ERROR_CATALOG ? (own as TErrorCode) : undefined) ??
    ((typeof field === "string" && fieldCodes[field]) || "invalid_payload");
  const message =
    issue && code !== "invalid_payload"
      ? issue.message
      : `${ERROR_CATALOG.invalid_payload.message}${issue ? `: ${issue.path.join(".") || "payload"}: ${issue.message}` : ""}`;
  throw new ProtocolError(code, message);
}
