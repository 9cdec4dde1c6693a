/**
 * The error codes of the device protocol (docs/protocol.md#error-codes): a stable snake_case `code` for machines,
 * an HTTP-like `status`, and a default sentence for humans. Devices in the field match on
 * these codes, so a code is never renamed or reused for another meaning.
 */
export const ERROR_CATALOG = {
  // 400 bad payload
  invalid_json: { status: 400, message: "Payload is not a JSON object" },
  invalid_payload: { status: 400, message: "Payload does not match the message schema" },
  invalid_session_id: { status: 400, message: "session_id must be an integer greater than 0" },
  invalid_filename: { status: 400, message: "filename is not a valid file name" },
  invalid_content_type: { status: 400, message: "content_type must be a type/subtype media type" },
  invalid_size: { status: 400, message: "size_mb must be an integer of at least 1" },
  invalid_request_id: { status: 400, message: "request_id must be a string of at most 64 characters" },
  invalid_object_key: { status: 400, message: "object_key is not a key this device can complete" },
  invalid_name: { status: 400, message: "name must be a string of 1 to 200 characters" },
  invalid_metadata: { status: 400, message: "metadata must be a JSON object" },
  invalid_overwrite: { status: 400, message: "overwrite must be a boolean" },
  // file transfer over MQTT (file_transfer)
  invalid_file_id: { status: 400, message: "file_id must match [A-Za-z0-9_-]{1,64}" },
  invalid_offset: { status: 400, message: "The segment offset must be a whole number of bytes from 0" },
  invalid_segment: { status: 400, message: "A segment must carry at least one byte" },
  invalid_file_size: { status: 400, message: "size must be a whole number of bytes from 0" },
  invalid_checksum: { status: 400, message: "checksum must be a SHA-256 digest: 64 hexadecimal characters" },
  segment_out_of_range: { status: 400, message: "The segment ends beyond the size given at init" },
  size_mismatch: { status: 400, message: "The size does not match the size given at init or the bytes received" },
  checksum_mismatch: { status: 400, message: "The file's SHA-256 does not match the checksum given; nothing was stored" },
  // multipart uploads (file_upload/multipart)
  invalid_upload_id: { status: 400, message: "upload_id must be an id a multipart create answered (mp_ and 32 hexadecimal digits)" },
  invalid_part_size: { status: 400, message: "part_size must be a whole number of MiB from 5 MiB to 5 GiB" },
  invalid_part_number: { status: 400, message: "A part number must be an integer from 1 to the upload's part count" },
  // chunk forwarding (chunks)
  invalid_stream: { status: 400, message: 'stream must match [A-Za-z0-9_-]{1,64} and not be "response"' },
  // stores and downloads
  invalid_store: { status: 400, message: 'store must be a store name such as "config"' },
  invalid_path: { status: 400, message: "path must be 1 to 1024 bytes without control characters" },
  // 403 not allowed
  device_unknown: { status: 403, message: "Unknown device" },
  device_disabled: { status: 403, message: "Device is disabled" },
  session_not_owned: { status: 403, message: "Invalid session or session does not belong to device" },
  device_sessions_disabled: {
    status: 403,
    message: "This project does not let devices open or close sessions; ask an admin",
  },
  store_access_denied: { status: 403, message: "This device may not use this store that way" },
  path_not_allowed: { status: 403, message: "The path leads outside what this device may use in the store" },
  // 404 not found
  session_not_found: { status: 404, message: "No such session" },
  file_not_found: { status: 404, message: "No such file" },
  store_not_found: { status: 404, message: "No store of this name is configured" },
  object_not_found: { status: 404, message: "The store holds no object at this path" },
  transfer_not_found: { status: 404, message: "No such transfer; send init first" },
  multipart_not_found: {
    status: 404,
    message: "No such multipart upload of this device: it was never created, or was aborted or expired",
  },
  stream_not_found: { status: 404, message: "No chunk stream of this name is configured for this device's project" },
  // 409 conflict
  session_closed: { status: 409, message: "Session is closed" },
  file_exists: { status: 409, message: "A file with this name is already uploaded in this session" },
  path_conflict: {
    status: 409,
    message: "A file of this session is a folder of this name, or lies in it (such as a and a/b.txt): a name cannot be both",
  },
  upload_not_found_in_storage: {
    status: 409,
    message: "Storage does not hold the object yet; upload it before reporting completion",
  },
  transfer_conflict: { status: 409, message: "A transfer with this file_id exists with different metadata" },
  transfer_completed: { status: 409, message: "This transfer is finished; a new file needs a new file_id" },
  multipart_completed: { status: 409, message: "This multipart upload is completed; a new file needs a new upload" },
  incomplete: { status: 409, message: "Segments are missing: send the missing ranges, then fin again" },
  // 413 too large
  payload_too_large: { status: 413, message: "Payload is larger than 64 KiB" },
  file_too_large: { status: 413, message: "size_mb is above the largest upload this platform accepts" },
  transfer_too_large: { status: 413, message: "The file is larger than this platform accepts over MQTT" },
  segment_too_large: { status: 413, message: "The segment is larger than this platform accepts" },
  chunk_too_large: { status: 413, message: "The chunk is larger than this platform accepts" },
  metadata_too_large: { status: 413, message: "metadata is larger than 8 KiB (as JSON)" },
  // 429
  /** The answer carries `retry_after`: whole seconds to wait before sending again. */
  rate_limited: { status: 429, message: "Too many requests from this device; retry after retry_after seconds" },
  too_many_multipart_uploads: {
    status: 429,
    message: "This device has as many multipart uploads open as allowed; complete or abort one",
  },
  too_many_transfers: { status: 429, message: "This device has as many transfers in progress as allowed; finish or abort one" },
  // 500
  internal_error: { status: 500, message: "Internal error" },
  // 503 dependency down: retry
  database_unavailable: { status: 503, message: "Database unavailable; retry later" },
  storage_unavailable: { status: 503, message: "Storage unavailable; retry later" },
} as const satisfies Record<string, { status: number; message: string }>;

export type TErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as TErrorCode[];

/** An error a device receives as `{success: false, status, code, error}`. */
export class ProtocolError extends Error {
  readonly code: TErrorCode;
  readonly status: number;
  /** Extra fields of the error answer (e.g. the missing ranges of an `incomplete` fin). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: TErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = "ProtocolError";
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = details;
  }
}

export function isProtocolError(value: unknown): value is ProtocolError {
  return value instanceof ProtocolError;
}
