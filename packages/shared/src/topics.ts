/**
 * MQTT topics of the device protocol. `P` is the configurable prefix (`TOPIC_PREFIX`, default
 * `fleetdrop`), `D` the device id. Nothing else in the code base spells a topic by hand.
 */
import { isValidDeviceId } from "./names";
import { OPERATIONS, type TJsonOperationName, type TOperationName } from "./operations";
import { isValidStreamName } from "./protocol/chunks";
import { isValidFileId, SHA256_HEX_PATTERN } from "./protocol/transfer";

export const DEFAULT_TOPIC_PREFIX = "fleetdrop";

/**
 * The fixed request topics a worker subscribes to, as suffixes after `P/fleet/D/`, named by the
 * operation of that topic (operations.ts; `file_upload/request` also carries `storeUpload`).
 */
export const REQUEST_SUFFIXES = {
  uploadRequest: OPERATIONS.uploadRequest.topic,
  uploadComplete: OPERATIONS.uploadComplete.topic,
  sessionOpen: OPERATIONS.sessionOpen.topic,
  sessionClose: OPERATIONS.sessionClose.topic,
  downloadRequest: OPERATIONS.downloadRequest.topic,
  agentStatus: OPERATIONS.agentStatus.topic,
  multipartCreate: OPERATIONS.multipartCreate.topic,
  multipartParts: OPERATIONS.multipartParts.topic,
  multipartComplete: OPERATIONS.multipartComplete.topic,
  multipartAbort: OPERATIONS.multipartAbort.topic,
} as const;

export type TRequestKind = keyof typeof REQUEST_SUFFIXES;

/** Where the answer to each request kind goes when the device gave no Response Topic. */
export const RESPONSE_SUFFIXES: Record<TRequestKind, string> = {
  uploadRequest: OPERATIONS.uploadRequest.response,
  uploadComplete: OPERATIONS.uploadComplete.response,
  sessionOpen: OPERATIONS.sessionOpen.response,
  sessionClose: OPERATIONS.sessionClose.response,
  downloadRequest: OPERATIONS.downloadRequest.response,
  agentStatus: OPERATIONS.agentStatus.response,
  multipartCreate: OPERATIONS.multipartCreate.response,
  multipartParts: OPERATIONS.multipartParts.response,
  multipartComplete: OPERATIONS.multipartComplete.response,
  multipartAbort: OPERATIONS.multipartAbort.response,
};

/** docs/protocol.md#file_transfer: `P/fleet/D/file_transfer/{file_id}/…`, answered on `P/fleet/D/file_transfer/response`. */
export const TRANSFER_ROOT = "file_transfer";
export const TRANSFER_RESPONSE_SUFFIX = `${TRANSFER_ROOT}/response`;
/** docs/protocol.md#chunks: `P/fleet/D/chunks/{stream}`, refusals answered on `P/fleet/D/chunks/response`. */
export const CHUNKS_ROOT = "chunks";
export const CHUNKS_RESPONSE_SUFFIX = `${CHUNKS_ROOT}/response`;
/** docs/protocol.md#file_downloadrequest: `P/fleet/D/file_download/request` → `P/fleet/D/file_download/response`. */
export const DOWNLOAD_REQUEST_SUFFIX = "file_download/request";
export const DOWNLOAD_RESPONSE_SUFFIX = "file_download/response";

/** What a `P/fleet/D/file_transfer/…` topic asks for (see {@link TTopics.parseTransfer}). */
export type TTransferTopic = { deviceId: string; fileId: string } & (
  | { command: "init" | "status" | "abort" }
  | { command: "segment"; offset: number }
  | { command: "fin"; size: number; sha256?: string }
  /** Under file_transfer/ but malformed: answered with `code`. */
  | {
      command: "invalid";
      code: "invalid_file_id" | "invalid_offset" | "invalid_file_size" | "invalid_checksum" | "invalid_payload";
      /** The command the topic looks like (for the answer's `command`). */
      attempted: "init" | "segment" | "fin" | "status" | "abort";
    }
);

const DECIMAL = /^[0-9]{1,16}$/;

function parseByteCount(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

function sharedFilter(filter: string, sharedGroup?: string): string {
  if (!sharedGroup) return filter;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sharedGroup)) {
    throw new Error(`MQTT shared group ${JSON.stringify(sharedGroup)} must match [A-Za-z0-9_-]{1,64}`);
  }
  return `$share/${sharedGroup}/${filter}`;
}

function assertFileId(fileId: string): void {
  if (!isValidFileId(fileId)) throw new Error(`invalid file_id: ${JSON.stringify(fileId)} (use [A-Za-z0-9_-]{1,64})`);
}

function assertByteCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`invalid ${what}: ${value}`);
}

export function assertTopicPrefix(prefix: string): string {
  if (
    prefix.length === 0 ||
    prefix.startsWith("/") ||
    prefix.endsWith("/") ||
    // oxlint-disable-next-line no-control-regex -- MQTT forbids NUL in topic names, so a prefix holding one is refused
    /[+#\u0000]/.test(prefix) ||
    prefix.startsWith("$") ||
    prefix.split("/").some((level) => level === "")
  ) {
    throw new Error(
      `TOPIC_PREFIX ${JSON.stringify(prefix)} is not valid: ` +
        `use one or more non-empty topic levels without + # or a leading $ (e.g. "fleetdrop")`,
    );
  }
  return prefix;
}

export type TTopics = ReturnType<typeof createTopics>;

export function createTopics(prefix: string = DEFAULT_TOPIC_PREFIX) {
  assertTopicPrefix(prefix);
  const fleet = `${prefix}/fleet/`;

  const device = (deviceId: string) => {
    if (!isValidDeviceId(deviceId)) throw new Error(`invalid device id: ${JSON.stringify(deviceId)}`);
    const base = `${fleet}${deviceId}/`;
    return {
      /** `P/fleet/D/` — everything of this device lies under it. */
      base,
      /** `P/fleet/D/#` — what the device may subscribe to. */
      all: `${base}#`,
      uploadRequest: base + REQUEST_SUFFIXES.uploadRequest,
      uploadResponse: base + RESPONSE_SUFFIXES.uploadRequest,
      uploadComplete: base + REQUEST_SUFFIXES.uploadComplete,
      sessionOpen: base + REQUEST_SUFFIXES.sessionOpen,
      sessionClose: base + REQUEST_SUFFIXES.sessionClose,
      sessionResponse: base + RESPONSE_SUFFIXES.sessionOpen,
      commands: `${base}commands`,
      /** Retained `{online}` with a Last Will: whether the device is connected (device SDK). */
      presence: `${base}presence`,
      /** The request topic of a JSON operation (operations.ts). */
      request: (operation: TJsonOperationName) => base + OPERATIONS[operation].topic,
      /** Where an operation is answered when the device gave no usable Response Topic. */
      response: (operation: TOperationName) => base + OPERATIONS[operation].response,
      /** The file_transfer topics of one transfer, and where their answers go. */
      fileTransfer: {
        response: base + TRANSFER_RESPONSE_SUFFIX,
        init: (fileId: string) => (assertFileId(fileId), `${base}${TRANSFER_ROOT}/${fileId}/init`),
        segment: (fileId: string, offset: number) => (
          assertFileId(fileId),
          assertByteCount("offset", offset),
          `${base}${TRANSFER_ROOT}/${fileId}/${offset}`
        ),
        fin: (fileId: string, size: number, sha256?: string) => {
          assertFileId(fileId);
          assertByteCount("size", size);
          if (sha256 !== undefined && !SHA256_HEX_PATTERN.test(sha256)) throw new Error("sha256 must be 64 hexadecimal characters");
          return `${base}${TRANSFER_ROOT}/${fileId}/fin/${size}${sha256 === undefined ? "" : `/${sha256.toLowerCase()}`}`;
        },
        status: (fileId: string) => (assertFileId(fileId), `${base}${TRANSFER_ROOT}/${fileId}/status`),
        abort: (fileId: string) => (assertFileId(fileId), `${base}${TRANSFER_ROOT}/${fileId}/abort`),
      },
      /** Where a chunk of `stream` is published. */
      chunks: (stream: string) => {
        if (!isValidStreamName(stream)) throw new Error(`invalid stream name: ${JSON.stringify(stream)}`);
        return `${base}${CHUNKS_ROOT}/${stream}`;
      },
      chunksResponse: base + CHUNKS_RESPONSE_SUFFIX,
      downloadRequest: base + DOWNLOAD_REQUEST_SUFFIX,
      downloadResponse: base + DOWNLOAD_RESPONSE_SUFFIX,
    };
  };

  /** `P/fleet/+/presence`: every device's retained birth / Last Will (never shared: each worker reads all). */
  const presenceFilter = `${fleet}+/presence`;
  /**
   * `P/broker/presence/D`: what the embedded broker itself says of a device's connections. No
   * client may publish there (only the broker), so it cannot be forged by a device or a service.
   */
  const brokerPresence = (deviceId: string) => {
    if (!isValidDeviceId(deviceId)) throw new Error(`invalid device id: ${JSON.stringify(deviceId)}`);
    return `${prefix}/broker/presence/${deviceId}`;
  };
  const brokerPresenceFilter = `${prefix}/broker/presence/+`;
  /**
   * Whose presence a topic reports and who reports it: `device` for `P/fleet/D/presence`,
   * `broker` for `P/broker/presence/D`; null for anything else.
   */
  const parsePresence = (topic: string): { deviceId: string; via: "device" | "broker" } | null => {
    const split = splitDevice(topic);
    if (split) return split.rest === "presence" ? { deviceId: split.deviceId, via: "device" } : null;
    const brokerBase = `${prefix}/broker/presence/`;
    if (!topic.startsWith(brokerBase)) return null;
    const deviceId = topic.slice(brokerBase.length);
    return isValidDeviceId(deviceId) ? { deviceId, via: "broker" } : null;
  };

  /** `P/fleet/+/file_transfer/#` (optionally shared): every file_transfer message of every device. */
  const transferFilter = (sharedGroup?: string) => sharedFilter(`${fleet}+/${TRANSFER_ROOT}/#`, sharedGroup);

  /** `P/fleet/+/chunks/+` (optionally shared): every chunk of every device. */
  const chunksFilter = (sharedGroup?: string) => sharedFilter(`${fleet}+/${CHUNKS_ROOT}/+`, sharedGroup);

  /** Splits `P/fleet/D/<rest>` into the device id and the rest; null when it is not such a topic. */
  const splitDevice = (topic: string): { deviceId: string; rest: string } | null => {
    if (!topic.startsWith(fleet)) return null;
    const after = topic.slice(fleet.length);
    const slash = after.indexOf("/");
    if (slash <= 0) return null;
    const deviceId = after.slice(0, slash);
    return isValidDeviceId(deviceId) ? { deviceId, rest: after.slice(slash + 1) } : null;
  };

  /**
   * Reads a file_transfer topic. Null for anything that is not a device's transfer message (including the
   * response topic, which the platform itself publishes to); `command: "invalid"` for a topic
   * under file_transfer/ that breaks the rules, so the device can be told why.
   */
  const parseTransfer = (topic: string): TTransferTopic | null => {
    const split = splitDevice(topic);
    if (!split || !split.rest.startsWith(`${TRANSFER_ROOT}/`)) return null;
    const { deviceId } = split;
    const levels = split.rest.slice(TRANSFER_ROOT.length + 1).split("/");
    const [fileId = "", command, ...more] = levels;
    if (levels.length === 1) return null; // file_transfer/response (and nothing else) has one level
    const attempted = command === "init" || command === "status" || command === "abort" || command === "fin" ? command : "segment";
    const invalid = (code: Extract<TTransferTopic, { command: "invalid" }>["code"]): TTransferTopic => ({
      deviceId,
      fileId,
      command: "invalid",
      code,
      attempted,
    });
    if (!isValidFileId(fileId))
      return { deviceId, fileId: (levels[0] ?? "").slice(0, 64), command: "invalid", code: "invalid_file_id", attempted };
    if ((command === "init" || command === "status" || command === "abort") && more.length === 0) return { deviceId, fileId, command };
    if (command === "fin") {
      const size = more[0] === undefined ? null : parseByteCount(more[0]);
      if (size === null || more.length > 2) return invalid("invalid_file_size");
      if (more.length === 2) {
        if (!SHA256_HEX_PATTERN.test(more[1]!)) return invalid("invalid_checksum");
        return { deviceId, fileId, command: "fin", size, sha256: more[1]!.toLowerCase() };
      }
      return { deviceId, fileId, command: "fin", size };
    }
    if (command !== undefined && more.length === 0) {
      const offset = parseByteCount(command);
      return offset === null ? invalid("invalid_offset") : { deviceId, fileId, command: "segment", offset };
    }
    return invalid("invalid_payload");
  };

  /** Reads `P/fleet/D/chunks/{stream}`: null for other topics and for chunks/response. */
  const parseChunk = (topic: string): { deviceId: string; stream: string; valid: boolean } | null => {
    const split = splitDevice(topic);
    if (!split || !split.rest.startsWith(`${CHUNKS_ROOT}/`)) return null;
    const stream = split.rest.slice(CHUNKS_ROOT.length + 1);
    if (stream.includes("/") || RESERVED_STREAM_LEVELS.has(stream)) return null;
    return { deviceId: split.deviceId, stream, valid: isValidStreamName(stream) };
  };

  /** `P/fleet/+/<suffix>`, optionally as a shared subscription `$share/<group>/…`. */
  const requestFilter = (kind: TRequestKind, sharedGroup?: string) => {
    const filter = `${fleet}+/${REQUEST_SUFFIXES[kind]}`;
    if (!sharedGroup) return filter;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(sharedGroup)) {
      throw new Error(`MQTT shared group ${JSON.stringify(sharedGroup)} must match [A-Za-z0-9_-]{1,64}`);
    }
    return `$share/${sharedGroup}/${filter}`;
  };

  /**
   * Splits `P/fleet/D/<suffix>` into the device id and the request kind; null for topics that
   * are not device requests (or carry an invalid device id).
   */
  const parseRequest = (topic: string): { deviceId: string; kind: TRequestKind } | null => {
    if (!topic.startsWith(fleet)) return null;
    const rest = topic.slice(fleet.length);
    const slash = rest.indexOf("/");
    if (slash <= 0) return null;
    const deviceId = rest.slice(0, slash);
    const suffix = rest.slice(slash + 1);
    const kind = SUFFIX_TO_KIND.get(suffix);
    if (!kind || !isValidDeviceId(deviceId)) return null;
    return { deviceId, kind };
  };

  /** True when `topic` lies under `P/fleet/D/` (the only place a device's responses may go). */
  const isUnderDevice = (topic: string, deviceId: string) =>
    // oxlint-disable-next-line no-control-regex -- MQTT forbids NUL in topic names: a topic holding one is never under a device
    topic.startsWith(`${fleet}${deviceId}/`) && !/[+#\u0000]/.test(topic);

  return {
    prefix,
    fleet,
    device,
    requestFilter,
    parseRequest,
    isUnderDevice,
    transferFilter,
    chunksFilter,
    parseTransfer,
    parseChunk,
    presenceFilter,
    brokerPresence,
    brokerPresenceFilter,
    parsePresence,
  };
}

const RESERVED_STREAM_LEVELS = new Set(["response"]);

const SUFFIX_TO_KIND = new Map<string, TRequestKind>(
  (Object.entries(REQUEST_SUFFIXES) as [TRequestKind, string][]).map(([kind, suffix]) => [suffix, kind]),
);
