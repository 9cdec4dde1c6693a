/**
 * Every operation a device can ask of the platform, in one typed table (docs/protocol.md): its
 * topic (after `P/fleet/D/`), where it is answered, its payload, its request and answer schemas,
 * the error codes it may answer, how it is acknowledged and its rate-limit class.
 *
 * The worker's router dispatches by this table and types its handlers from it, the device SDK's
 * `request(op, payload)` is typed from it, and a test holds docs/protocol.md to it. Code names an
 * operation by its key here (`"sessionOpen"`, `"transferSegment"`).
 */
import { z } from "zod";
import { ProtocolError, type TErrorCode } from "./errors";
import { AGENT_STATUS_FIELD_CODES, ZAgentStatusResponseSchema, ZAgentStatusSchema } from "./protocol/agent";
import { ZChunkResponseSchema } from "./protocol/chunks";
import { validateMessage, ZFileExistsResponseSchema } from "./protocol/common";
import {
  ZSessionCloseSchema,
  ZSessionOpenSchema,
  ZSessionResponseSchema,
  SESSION_CLOSE_FIELD_CODES,
  SESSION_OPEN_FIELD_CODES,
} from "./protocol/session";
import {
  DOWNLOAD_REQUEST_FIELD_CODES,
  STORE_UPLOAD_FIELD_CODES,
  ZDownloadRequestSchema,
  ZDownloadResponseSchema,
  ZStoreCompleteResponseSchema,
  ZStoreUploadRequestSchema,
  ZStoreUploadResponseSchema,
} from "./protocol/stores";
import {
  MULTIPART_COMMAND_FIELD_CODES,
  MULTIPART_CREATE_FIELD_CODES,
  MULTIPART_PARTS_FIELD_CODES,
  ZMultipartAbortResponseSchema,
  ZMultipartCommandSchema,
  ZMultipartCompleteResponseSchema,
  ZMultipartCreateSchema,
  ZMultipartPageSchema,
  ZMultipartPartsSchema,
} from "./protocol/multipart";
import {
  TRANSFER_COMMAND_FIELD_CODES,
  TRANSFER_INIT_FIELD_CODES,
  ZTransferCommandSchema,
  ZTransferInitSchema,
  ZTransferResponseSchema,
  type TTransferCommand,
} from "./protocol/transfer";
import {
  UPLOAD_COMPLETE_FIELD_CODES,
  UPLOAD_REQUEST_FIELD_CODES,
  ZUploadCompleteResponseSchema,
  ZUploadCompleteSchema,
  ZUploadRequestSchema,
  ZUploadResponseSchema,
} from "./protocol/upload";

/** Classes of the per-device rate limits: each device has one token bucket per class. */
export const RATE_LIMIT_CLASSES = ["session", "upload", "download", "transfer", "segment", "chunk"] as const;
export type TRateLimitClass = (typeof RATE_LIMIT_CLASSES)[number];

/**
 * How an operation is acknowledged:
 * - `answer`: every request is answered (success or error) on the response topic;
 * - `puback`: a success is acknowledged by the PUBACK alone, unless the MQTT 5 publish asked
 *   for an answer with a Response Topic; errors are always answered.
 */
export type TAck = "answer" | "puback";

/**
 * `json`: a JSON object (docs/protocol.md#payloads); `empty-or-json`: nothing, or a JSON object
 * (only `request_id`); `bytes`: raw bytes taken as they are.
 */
export type TPayloadKind = "json" | "empty-or-json" | "bytes";

export type TOperationSpec = {
  /** The request topic after `P/fleet/D/`, written as docs/protocol.md writes it (`{…}` are parameters). */
  topic: string;
  /** Where answers go after `P/fleet/D/` when the device gave no usable MQTT 5 Response Topic. */
  response: string;
  payload: TPayloadKind;
  /** The request's schema (null: raw bytes) and the codes of its fields (validateMessage). */
  request: z.ZodType | null;
  fieldCodes: Partial<Record<string, TErrorCode>>;
  /** The success answer, envelope included. */
  answer: z.ZodType;
  /** Every code the operation may answer. */
  errors: readonly TErrorCode[];
  /** Error answers that carry fields beyond the envelope, by code (each code one of `errors`). */
  errorAnswers?: Partial<Record<TErrorCode, z.ZodType>>;
  ack: TAck;
  /** Requests and answers are published with this QoS. */
  qos: 1;
  rateLimit: TRateLimitClass;
  /** The label of metrics and logs (`kind`): both operations of `file_upload/request` share one. */
  kind: string;
  /** The anchor of the operation's section in docs/protocol.md. */
  doc: string;
};

/** Codes any operation may answer: the device, the rate limit, a fault or an outage. */
const EVERY = [
  "device_unknown",
  "device_disabled",
  "rate_limited",
  "internal_error",
  "database_unavailable",
] as const satisfies readonly TErrorCode[];
/** Codes of any JSON payload (docs/protocol.md#payloads). */
const JSON_PAYLOAD = ["invalid_json", "payload_too_large", "invalid_request_id"] as const satisfies readonly TErrorCode[];
/** Codes of a topic under `file_transfer/` that breaks the rules (read before the operation runs). */
const TRANSFER_TOPIC = ["invalid_file_id"] as const satisfies readonly TErrorCode[];

const TRANSFER_RESPONSE = "file_transfer/response";
const MULTIPART_RESPONSE = "file_upload/multipart/response";
/** Codes of every multipart operation that names an upload. */
const MULTIPART_UPLOAD = ["invalid_upload_id", "multipart_not_found"] as const satisfies readonly TErrorCode[];

export const OPERATIONS = {
  sessionOpen: {
    topic: "session/open",
    response: "session/response",
    payload: "json",
    request: ZSessionOpenSchema,
    fieldCodes: SESSION_OPEN_FIELD_CODES,
    answer: ZSessionResponseSchema,
    errors: [...EVERY, ...JSON_PAYLOAD, "invalid_name", "invalid_metadata", "metadata_too_large", "device_sessions_disabled"],
    ack: "answer",
    qos: 1,
    rateLimit: "session",
    kind: "sessionOpen",
    doc: "sessionopen",
  },
  sessionClose: {
    topic: "session/close",
    response: "session/response",
    payload: "json",
    request: ZSessionCloseSchema,
    fieldCodes: SESSION_CLOSE_FIELD_CODES,
    answer: ZSessionResponseSchema,
    errors: [...EVERY, ...JSON_PAYLOAD, "invalid_session_id", "device_sessions_disabled", "session_not_found", "session_not_owned"],
    ack: "answer",
    qos: 1,
    rateLimit: "session",
    kind: "sessionClose",
    doc: "sessionclose",
  },
  uploadRequest: {
    topic: "file_upload/request",
    response: "file_upload/response",
    payload: "json",
    request: ZUploadRequestSchema,
    fieldCodes: UPLOAD_REQUEST_FIELD_CODES,
    answer: ZUploadResponseSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      "invalid_payload",
      "invalid_session_id",
      "invalid_filename",
      "invalid_content_type",
      "invalid_size",
      "invalid_overwrite",
      "invalid_checksum",
      "file_too_large",
      "session_not_found",
      "session_not_owned",
      "session_closed",
      "file_exists",
      "path_conflict",
      "storage_unavailable",
    ],
    errorAnswers: { file_exists: ZFileExistsResponseSchema },
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "uploadRequest",
    doc: "file_uploadrequest",
  },
  /** `file_upload/request` with `store` instead of `session_id` ({@link uploadOperationOf}). */
  storeUpload: {
    topic: "file_upload/request",
    response: "file_upload/response",
    payload: "json",
    request: ZStoreUploadRequestSchema,
    fieldCodes: STORE_UPLOAD_FIELD_CODES,
    answer: ZStoreUploadResponseSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      "invalid_payload",
      "invalid_store",
      "invalid_path",
      "invalid_content_type",
      "invalid_size",
      "invalid_overwrite",
      "file_too_large",
      "store_not_found",
      "path_not_allowed",
      "store_access_denied",
      "storage_unavailable",
    ],
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "uploadRequest",
    doc: "store-uploads",
  },
  /** For a session file, or (an `object_key` of a named store) for a store object. */
  uploadComplete: {
    topic: "file_upload/complete",
    response: "file_upload/response",
    payload: "json",
    request: ZUploadCompleteSchema,
    fieldCodes: UPLOAD_COMPLETE_FIELD_CODES,
    answer: z.union([ZUploadCompleteResponseSchema, ZStoreCompleteResponseSchema]),
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      "invalid_object_key",
      "file_not_found",
      "upload_not_found_in_storage",
      "checksum_mismatch",
      "storage_unavailable",
    ],
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "uploadComplete",
    doc: "file_uploadcomplete",
  },
  multipartCreate: {
    topic: "file_upload/multipart/create",
    response: MULTIPART_RESPONSE,
    payload: "json",
    request: ZMultipartCreateSchema,
    fieldCodes: MULTIPART_CREATE_FIELD_CODES,
    answer: ZMultipartPageSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      "invalid_payload",
      "invalid_session_id",
      "invalid_filename",
      "invalid_content_type",
      "invalid_file_size",
      "invalid_part_size",
      "invalid_checksum",
      "invalid_overwrite",
      "file_too_large",
      "session_not_found",
      "session_not_owned",
      "session_closed",
      "file_exists",
      "path_conflict",
      "too_many_multipart_uploads",
      "storage_unavailable",
    ],
    errorAnswers: { file_exists: ZFileExistsResponseSchema },
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "multipartCreate",
    doc: "file_uploadmultipartcreate",
  },
  multipartParts: {
    topic: "file_upload/multipart/parts",
    response: MULTIPART_RESPONSE,
    payload: "json",
    request: ZMultipartPartsSchema,
    fieldCodes: MULTIPART_PARTS_FIELD_CODES,
    answer: ZMultipartPageSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      ...MULTIPART_UPLOAD,
      "invalid_payload",
      "invalid_part_number",
      "multipart_completed",
      "session_closed",
      "storage_unavailable",
    ],
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "multipartParts",
    doc: "file_uploadmultipartparts",
  },
  multipartComplete: {
    topic: "file_upload/multipart/complete",
    response: MULTIPART_RESPONSE,
    payload: "json",
    request: ZMultipartCommandSchema,
    fieldCodes: MULTIPART_COMMAND_FIELD_CODES,
    answer: ZMultipartCompleteResponseSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      ...MULTIPART_UPLOAD,
      "invalid_payload",
      "incomplete",
      "size_mismatch",
      "checksum_mismatch",
      "session_closed",
      "path_conflict",
      "storage_unavailable",
    ],
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "multipartComplete",
    doc: "file_uploadmultipartcomplete",
  },
  multipartAbort: {
    topic: "file_upload/multipart/abort",
    response: MULTIPART_RESPONSE,
    payload: "json",
    request: ZMultipartCommandSchema,
    fieldCodes: MULTIPART_COMMAND_FIELD_CODES,
    answer: ZMultipartAbortResponseSchema,
    errors: [...EVERY, ...JSON_PAYLOAD, ...MULTIPART_UPLOAD, "invalid_payload", "multipart_completed", "storage_unavailable"],
    ack: "answer",
    qos: 1,
    rateLimit: "upload",
    kind: "multipartAbort",
    doc: "file_uploadmultipartabort",
  },
  downloadRequest: {
    topic: "file_download/request",
    response: "file_download/response",
    payload: "json",
    request: ZDownloadRequestSchema,
    fieldCodes: DOWNLOAD_REQUEST_FIELD_CODES,
    answer: ZDownloadResponseSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      "invalid_store",
      "invalid_path",
      "store_not_found",
      "path_not_allowed",
      "store_access_denied",
      "object_not_found",
      "storage_unavailable",
    ],
    ack: "answer",
    qos: 1,
    rateLimit: "download",
    kind: "downloadRequest",
    doc: "file_downloadrequest",
  },
  transferInit: {
    topic: "file_transfer/{file_id}/init",
    response: TRANSFER_RESPONSE,
    payload: "json",
    request: ZTransferInitSchema,
    fieldCodes: TRANSFER_INIT_FIELD_CODES,
    answer: ZTransferResponseSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      ...TRANSFER_TOPIC,
      "invalid_payload",
      "invalid_session_id",
      "invalid_filename",
      "invalid_file_size",
      "invalid_content_type",
      "invalid_checksum",
      "invalid_overwrite",
      "transfer_too_large",
      "session_not_found",
      "session_not_owned",
      "session_closed",
      "file_exists",
      "transfer_conflict",
      "transfer_completed",
      "too_many_transfers",
    ],
    errorAnswers: { file_exists: ZFileExistsResponseSchema },
    ack: "answer",
    qos: 1,
    rateLimit: "transfer",
    kind: "transfer_init",
    doc: "transfer-init",
  },
  transferSegment: {
    topic: "file_transfer/{file_id}/{offset}",
    response: TRANSFER_RESPONSE,
    payload: "bytes",
    request: null,
    fieldCodes: {},
    answer: ZTransferResponseSchema,
    errors: [
      ...EVERY,
      ...TRANSFER_TOPIC,
      "invalid_payload",
      "invalid_offset",
      "invalid_segment",
      "segment_out_of_range",
      "segment_too_large",
      "transfer_too_large",
      "transfer_not_found",
      "transfer_completed",
    ],
    ack: "puback",
    qos: 1,
    rateLimit: "segment",
    kind: "transfer_segment",
    doc: "transfer-segments",
  },
  transferFin: {
    topic: "file_transfer/{file_id}/fin/{size}[/{sha256}]",
    response: TRANSFER_RESPONSE,
    payload: "empty-or-json",
    request: ZTransferCommandSchema,
    fieldCodes: TRANSFER_COMMAND_FIELD_CODES,
    answer: ZTransferResponseSchema,
    errors: [
      ...EVERY,
      ...JSON_PAYLOAD,
      ...TRANSFER_TOPIC,
      "invalid_file_size",
      "invalid_checksum",
      "size_mismatch",
      "checksum_mismatch",
      "incomplete",
      "transfer_not_found",
      "transfer_completed",
      "session_closed",
      "file_exists",
      "storage_unavailable",
    ],
    errorAnswers: { file_exists: ZFileExistsResponseSchema },
    ack: "answer",
    qos: 1,
    rateLimit: "transfer",
    kind: "transfer_fin",
    doc: "transfer-fin",
  },
  transferStatus: {
    topic: "file_transfer/{file_id}/status",
    response: TRANSFER_RESPONSE,
    payload: "empty-or-json",
    request: ZTransferCommandSchema,
    fieldCodes: TRANSFER_COMMAND_FIELD_CODES,
    answer: ZTransferResponseSchema,
    errors: [...EVERY, ...JSON_PAYLOAD, ...TRANSFER_TOPIC, "invalid_payload", "transfer_not_found"],
    ack: "answer",
    qos: 1,
    rateLimit: "transfer",
    kind: "transfer_status",
    doc: "transfer-status",
  },
  transferAbort: {
    topic: "file_transfer/{file_id}/abort",
    response: TRANSFER_RESPONSE,
    payload: "empty-or-json",
    request: ZTransferCommandSchema,
    fieldCodes: TRANSFER_COMMAND_FIELD_CODES,
    answer: ZTransferResponseSchema,
    errors: [...EVERY, ...JSON_PAYLOAD, ...TRANSFER_TOPIC, "invalid_payload", "transfer_completed"],
    ack: "answer",
    qos: 1,
    rateLimit: "transfer",
    kind: "transfer_abort",
    doc: "transfer-abort",
  },
  chunk: {
    topic: "chunks/{stream}",
    response: "chunks/response",
    payload: "bytes",
    request: null,
    fieldCodes: {},
    answer: ZChunkResponseSchema,
    errors: [...EVERY, "invalid_stream", "stream_not_found", "chunk_too_large"],
    ack: "puback",
    qos: 1,
    rateLimit: "chunk",
    kind: "chunk",
    doc: "chunks",
  },
  agentStatus: {
    topic: "agent/status",
    response: "agent/response",
    payload: "json",
    request: ZAgentStatusSchema,
    fieldCodes: AGENT_STATUS_FIELD_CODES,
    answer: ZAgentStatusResponseSchema,
    errors: [...EVERY, ...JSON_PAYLOAD, "invalid_payload"],
    ack: "answer",
    qos: 1,
    rateLimit: "session",
    kind: "agentStatus",
    doc: "agentstatus",
  },
} as const satisfies Record<string, TOperationSpec>;

export type TOperations = typeof OPERATIONS;
export type TOperationName = keyof TOperations;

export const OPERATION_NAMES = Object.keys(OPERATIONS) as TOperationName[];

/**
 * Operations on a fixed topic with a JSON payload: what the router hands to a handler of its
 * table, and what the device SDK's `request` sends.
 */
export type TJsonOperationName = {
  [K in TOperationName]: TOperations[K]["payload"] extends "json"
    ? TOperations[K]["topic"] extends `${string}{${string}`
      ? never
      : K
    : never;
}[TOperationName];

/** Operations whose topic carries parameters (`file_transfer/{file_id}/…`, `chunks/{stream}`): the worker's raw routes. */
export type TRawOperationName = Exclude<TOperationName, TJsonOperationName>;

export const JSON_OPERATION_NAMES = OPERATION_NAMES.filter((name) => !OPERATIONS[name].topic.includes("{")) as TJsonOperationName[];

type TRequestSchemaOf<K extends TJsonOperationName> = Extract<TOperations[K]["request"], z.ZodType>;

/** A request as the device writes it (optional fields may be left out). */
export type TOperationRequestInput<K extends TJsonOperationName> = z.input<TRequestSchemaOf<K>>;
/** A request after validation (defaults applied, names normalised): what a handler receives. */
export type TOperationRequest<K extends TJsonOperationName> = z.output<TRequestSchemaOf<K>>;
/** The success answer, envelope included: what the device receives. */
export type TOperationAnswer<K extends TOperationName> = z.output<TOperations[K]["answer"]>;

type TEnvelopeKey = "success" | "status" | "timestamp" | "request_id";
type TDistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** The success answer without its envelope: what a handler returns (the router adds the envelope). */
export type TOperationAnswerBody<K extends TOperationName> = TDistributiveOmit<TOperationAnswer<K>, TEnvelopeKey>;

/**
 * Validates a decoded JSON request against its operation's schema: the first failing field
 * decides the code (the operation's `fieldCodes`, else `invalid_payload`).
 */
export function parseOperationRequest<K extends TJsonOperationName>(operation: K, value: unknown): TOperationRequest<K> {
  const spec: TOperationSpec = OPERATIONS[operation];
  if (!spec.request) throw new Error(`${operation} has no JSON request`);
  // validateMessage's result is typed by the widened spec; it is this operation's schema's output.
  return validateMessage(spec.request, value, spec.fieldCodes) as TOperationRequest<K>;
}

/**
 * The operation of a `file_upload/request`: a store upload when it names a `store` (and no
 * `session_id`), a session upload otherwise. Both is 400 `invalid_payload`.
 */
export function uploadOperationOf(message: Record<string, unknown>): "uploadRequest" | "storeUpload" {
  const hasStore = message.store !== undefined && message.store !== null;
  const hasSession = message.session_id !== undefined && message.session_id !== null;
  if (hasStore && hasSession)
    throw new ProtocolError("invalid_payload", "Give either session_id (a session upload) or store (a store upload), not both");
  return hasStore ? "storeUpload" : "uploadRequest";
}

/**
 * The operations sharing each fixed JSON topic, and how a decoded request picks one of them:
 * most topics carry one operation; `file_upload/request` carries session and store uploads.
 */
export function jsonOperationOf(topic: string, message: Record<string, unknown>): TJsonOperationName | null {
  if (topic === OPERATIONS.uploadRequest.topic) return uploadOperationOf(message);
  return OPERATION_OF_TOPIC.get(topic) ?? null;
}

/** The operation of each fixed topic that carries one (file_upload/request is chosen above). */
const OPERATION_OF_TOPIC = new Map<string, TJsonOperationName>(JSON_OPERATION_NAMES.map((name) => [OPERATIONS[name].topic, name]));

/** The operation of each `file_transfer` command; a malformed topic counts as the command it looks like. */
export const TRANSFER_OPERATIONS = {
  init: "transferInit",
  segment: "transferSegment",
  fin: "transferFin",
  status: "transferStatus",
  abort: "transferAbort",
} as const satisfies Record<TTransferCommand, TRawOperationName>;
