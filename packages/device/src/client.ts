/**
 * The device side of the protocol over mqtt.js: one connection bound to one device id, with
 * request/response matched by `request_id`.
 *
 *   const device = await FleetdropDevice.connect({ url, deviceId, password });
 *   const result = await device.uploadFile({ sessionId: 1, path: "image.jpg" });
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { disableNagle } from "@fleetdrop/mqtt-internals";
import { describeFilenameProblem, filenameProblem, normaliseFilename } from "@fleetdrop/shared/names";
import {
  JSON_OPERATION_NAMES,
  type TJsonOperationName,
  type TOperationAnswer,
  type TOperationRequestInput,
} from "@fleetdrop/shared/operations";
import { DEFAULT_TOPIC_PREFIX, createTopics } from "@fleetdrop/shared/topics";
import { PRESENCE_REFRESH_SECONDS } from "@fleetdrop/shared/protocol/commands";
import mqtt, { type MqttClient } from "mqtt";
import { guessContentType } from "./content-type";
import { sha256OfFile } from "./file-digest";
import { existingOf, FleetdropError, RateLimitedError, retryAfterOf, StorageRejectedError, TimeoutError } from "./errors";
import { postForm, type TUploadProgress } from "./upload";
import { abortTransfer, transferStatus, uploadOverMqtt, type TTransferConnection, type TUploadOverMqttInput } from "./mqtt-transfer";
import { onChunkRefused, sendChunk, type TChunkAnswer, type TSendChunkOptions } from "./chunks";
import { downloadFile, requestDownload, uploadToStore, type TDownloadInput, type TStoreUploadInput } from "./download";
import { fetchCommands, reportCommands } from "./commands";
import { uploadMultipart, type TMultipartUploadOptions, type TMultipartUploadResult } from "./multipart-upload";
import { listenForCommands, type TListenOptions } from "./capture";

export type TDeviceOptions = {
  /** Broker URL, e.g. mqtt://localhost:1883 or mqtts://broker:8883. */
  url: string;
  deviceId: string;
  /** Password devices: the MQTT username is the device id. */
  password?: string;
  username?: string;
  /** Certificate devices (mutual TLS). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  topicPrefix?: string;
  /** Unset: MQTT 5, or 3.1.1 when the broker answers that it does not speak 5 (the embedded broker). */
  protocolVersion?: 4 | 5;
  /** How long to wait for each answer (default 15 s). */
  timeoutMs?: number;
  /**
   * A request answered `429 rate_limited` is sent again after the `retry_after` the platform
   * gave, at most this many times (default 3; 0: never), and only while that wait is at most
   * `maxRetryAfterSeconds` (default 60); then it fails with a RateLimitedError.
   */
  rateLimitRetries?: number;
  maxRetryAfterSeconds?: number;
  /** How the SDK waits (tests pass a fake clock); default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** MQTT client id (default: the device id). Two connections of one device need two ids. */
  clientId?: string;
  /**
   * Keep a retained `{online}` on `P/fleet/D/presence`, with a Last Will saying offline, so the
   * dashboard can tell "device offline" when it asks for a capture. For the connection that
   * answers commands (`listen`); one-shot connections (an upload) leave it off (the default).
   */
  announcePresence?: boolean;
  /** How often the birth message is repeated (default PRESENCE_REFRESH_SECONDS, 5 minutes). */
  presenceRefreshMs?: number;
};

export type TUploadForm = {
  url: string;
  fields: Record<string, string>;
  object_key: string;
  expires_in: number;
  file_id: string;
};

export type TRequestUploadInput = {
  sessionId: number;
  filename: string;
  contentType?: string;
  sizeMb?: number;
  overwrite?: boolean;
  requestId?: string;
  /** The file's SHA-256 (hex): the form then binds it, and storage refuses any other bytes. */
  sha256?: string;
  /** `"agent"`: a device agent asks; the platform records (and the dashboard shows) that the file came through it. */
  via?: "agent";
};

export type TUploadFileInput = {
  sessionId: number;
  /** Local file to send. */
  path: string;
  /** Name in the session (default: the file's base name); may contain folders. */
  filename?: string;
  contentType?: string;
  overwrite?: boolean;
  requestId?: string;
  onProgress?: (progress: TUploadProgress) => void;
  /** Attempts for retryable failures (503, 429, network, expired form). Default 5. */
  attempts?: number;
  /** Resolves when `bytes` more may be sent (a bandwidth cap). */
  throttle?: (bytes: number) => Promise<void>;
  /**
   * The file's SHA-256 (hex) when the caller already has it (the file is not read for it);
   * `false` sends none (the platform then hashes what storage holds). Default: the file is
   * hashed once before the upload, so that storage refuses bytes that changed on the way.
   */
  sha256?: string | false;
  /** As in {@link TRequestUploadInput}. */
  via?: "agent";
};

export type TUploadFileResult = {
  fileId: string;
  objectKey: string;
  size: number;
  etag?: string;
  /** The SHA-256 the form bound the file to (absent with `sha256: false`). */
  sha256?: string;
  attempts: number;
};

type TPending = { resolve: (body: Record<string, unknown>) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

const fileRef = (value: string | Buffer | undefined) =>
  value === undefined ? undefined : typeof value === "string" && !value.includes("-----BEGIN") ? readFileSync(value) : value;

export class FleetdropDevice {
  private readonly pending = new Map<string, TPending>();
  private readonly topics;
  private readonly timeoutMs: number;
  private presenceRefresh: NodeJS.Timeout | null = null;

  private constructor(
    readonly client: MqttClient,
    readonly options: TDeviceOptions,
  ) {
    this.topics = createTopics(options.topicPrefix ?? DEFAULT_TOPIC_PREFIX).device(options.deviceId);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    // Commands carry request_ids too; only answers may settle a pending request.
    client.on("message", (topic, payload) => topic !== this.topics.commands && this.onMessage(payload));
  }

  static async connect(options: TDeviceOptions): Promise<FleetdropDevice> {
    let client: MqttClient;
    if (options.protocolVersion !== undefined) client = await openClient(options, options.protocolVersion);
    else {
      // No version chosen: MQTT 5 where the broker speaks it (Mosquitto), else 3.1.1 (the
      // embedded broker of `npm start`, Aedes, answers MQTT 5 with "unacceptable protocol version").
      try {
        client = await openClient(options, 5);
      } catch (error) {
        if (!(error instanceof FleetdropError) || !UNACCEPTABLE_PROTOCOL.has(Number((error.cause as { code?: unknown } | undefined)?.code)))
          throw error;
        client = await openClient(options, 4);
      }
    }
    options = { ...options, protocolVersion: client.options.protocolVersion === 5 ? 5 : 4 };
    const device = new FleetdropDevice(client, options);
    if (options.announcePresence) {
      client.on("connect", () => void device.announcePresence(true));
      await device.announcePresence(true);
      // Repeated so the platform can tell a device that vanished with the broker (a crashed broker
      // sends no Last Will) from one still connected: unrefreshed presence expires.
      device.presenceRefresh = setInterval(
        () => client.connected && void device.announcePresence(true),
        options.presenceRefreshMs ?? PRESENCE_REFRESH_SECONDS * 1000,
      );
      device.presenceRefresh.unref();
    }
    // Where every JSON operation is answered (request() waits there).
    await client.subscribeAsync(
      Object.fromEntries(JSON_OPERATION_NAMES.map((name) => [device.topics.response(name), { qos: 1 as const }])),
    );
    return device;
  }

  /** Retained `{online}` on `P/fleet/D/presence` (best effort). */
  private announcePresence(online: boolean): Promise<void> {
    return this.client
      .publishAsync(this.topics.presence, JSON.stringify({ online, at: new Date().toISOString() }), { qos: 1, retain: true })
      .then(
        () => undefined,
        () => undefined,
      );
  }

  async close(): Promise<void> {
    if (this.presenceRefresh) clearInterval(this.presenceRefresh);
    if (this.options.announcePresence && this.client.connected)
      await Promise.race([this.announcePresence(false), new Promise((resolve) => setTimeout(resolve, 2000))]);
    for (const [, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new FleetdropError("connection closed", "closed", 0));
    }
    this.pending.clear();
    await this.client.endAsync();
  }

  private onMessage(payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      return;
    }
    const id = typeof body.request_id === "string" ? body.request_id : undefined;
    const entry = id ? this.pending.get(id) : undefined;
    if (!entry || !id) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(body);
  }

  /**
   * Publishes a request of a JSON operation (`@fleetdrop/shared/operations`: its topic, payload
   * and answer) and waits for the response carrying the same request_id. A `429
   * rate_limited` answer is waited out (its `retry_after`) and the request sent again with the
   * same request_id, within the limits of TDeviceOptions.rateLimitRetries.
   */
  async request<K extends TJsonOperationName>(operation: K, message: TOperationRequestInput<K>): Promise<TOperationAnswer<K>> {
    const requestId = typeof message.request_id === "string" ? message.request_id : randomUUID();
    const retries = this.options.rateLimitRetries ?? 3;
    const maxWait = this.options.maxRetryAfterSeconds ?? 60;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      const body = await this.requestOnce(operation, message, requestId);
      // The platform's answer to this operation (not validated here: unknown fields are allowed).
      if (body.success === true) return body as TOperationAnswer<K>;
      const retryAfter = retryAfterOf(body);
      if (body.code === "rate_limited" && retryAfter !== undefined) {
        if (attempt > retries) throw new RateLimitedError(operation, retryAfter, attempt, `no retries left (rateLimitRetries ${retries})`);
        if (retryAfter > maxWait)
          throw new RateLimitedError(operation, retryAfter, attempt, `longer than maxRetryAfterSeconds (${maxWait} s)`);
        await sleep(retryAfter * 1000);
        continue;
      }
      throw new FleetdropError(
        jsonText(body.error, "request failed"),
        jsonText(body.code, "unknown"),
        Number(body.status ?? 500),
        retryAfter,
        existingOf(body),
      );
    }
  }

  private async requestOnce(operation: TJsonOperationName, message: object, requestId: string): Promise<Record<string, unknown>> {
    const topic = this.topics.request(operation);
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new TimeoutError(operation, this.timeoutMs));
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
    });
    await this.client.publishAsync(topic, JSON.stringify({ ...message, request_id: requestId }), { qos: 1 });
    return answer;
  }

  /** What the file transfer and chunk helpers (mqtt-transfer.ts, chunks.ts) need of this connection. */
  get connection(): TTransferConnection {
    return { client: this.client, deviceId: this.options.deviceId, timeoutMs: this.timeoutMs, base: this.topics.base };
  }

  /** docs/protocol.md#file_transfer: sends a file over MQTT in segments; resumes from what the platform holds. */
  uploadOverMqtt(input: TUploadOverMqttInput) {
    return uploadOverMqtt(this.connection, input);
  }

  /** docs/protocol.md#transfer-status: the byte ranges the platform holds for one of this device's transfers. */
  transferStatus(fileId: string) {
    return transferStatus(this.connection, fileId);
  }

  /** docs/protocol.md#transfer-abort: drops an unfinished transfer. */
  abortTransfer(fileId: string) {
    return abortTransfer(this.connection, fileId);
  }

  /** docs/protocol.md#chunks: publishes a chunk of `stream` (QoS 1); with `confirm` (MQTT 5) waits until it is in the outbox. */
  sendChunk(stream: string, bytes: Uint8Array | string, options?: TSendChunkOptions): Promise<TChunkAnswer | null> {
    return sendChunk(this.connection, stream, bytes, options);
  }

  /** docs/protocol.md#chunks: sees refusals of chunks sent without `confirm`. */
  onChunkRefused(handler: (answer: TChunkAnswer) => void): () => void {
    return onChunkRefused(this.connection, handler);
  }

  /** docs/protocol.md#file_uploadrequest: a presigned POST form for one file of an open session of this device. */
  async requestUpload(input: TRequestUploadInput): Promise<TUploadForm> {
    // The platform's own rules (shared names.ts): a name it would refuse fails here, without a round trip.
    const filename = normaliseFilename(input.filename);
    const problem = filenameProblem(filename);
    if (problem) throw new FleetdropError(describeFilenameProblem(problem), "invalid_filename", 400);
    const body = await this.request("uploadRequest", {
      session_id: input.sessionId,
      filename,
      ...(input.contentType ? { content_type: input.contentType } : {}),
      ...(input.sizeMb ? { size_mb: input.sizeMb } : {}),
      ...(input.overwrite ? { overwrite: true } : {}),
      ...(input.requestId ? { request_id: input.requestId } : {}),
      ...(input.sha256 ? { sha256: input.sha256 } : {}),
      ...(input.via ? { via: input.via } : {}),
    });
    return body;
  }

  /**
   * docs/protocol.md#multipart-uploads: sends a large file in parts over HTTPS, several at once,
   * optionally capped in bytes per second; with `statePath`, running it again after a crash or a
   * reboot sends only the parts storage does not hold.
   */
  uploadMultipart(file: string, options: TMultipartUploadOptions): Promise<TMultipartUploadResult> {
    return uploadMultipart(this, file, options);
  }

  /** Reports a finished upload; the platform checks storage and answers with what it holds. */
  async completeUpload(objectKey: string): Promise<{ file_id: string; state: string; size: number; etag?: string }> {
    return (await this.request("uploadComplete", { object_key: objectKey })) as never;
  }

  async openSession(input: { name?: string; metadata?: Record<string, unknown>; requestId?: string } = {}) {
    return (await this.request("sessionOpen", {
      ...(input.name ? { name: input.name } : {}),
      ...(input.metadata ? { metadata: input.metadata } : {}),
      ...(input.requestId ? { request_id: input.requestId } : {}),
    })) as { session_id: number; name: string; state: string; started_at: string };
  }

  async closeSession(sessionId: number) {
    return (await this.request("sessionClose", { session_id: sessionId })) as { session_id: number; state: string; ended_at: string };
  }

  /** docs/protocol.md#file_downloadrequest: a download URL (with size and ETag) for a path in a named store. */
  requestDownload(input: { store: string; path: string; requestId?: string }) {
    return requestDownload(this, input);
  }

  /** docs/protocol.md#file_downloadrequest: downloads a named store's object to a local file, checking size and ETag. */
  download(input: TDownloadInput) {
    return downloadFile(this, input);
  }

  /** docs/protocol.md#store-uploads: uploads a local file into a named store (e.g. `status`). */
  uploadToStore(input: TStoreUploadInput) {
    return uploadToStore(this, input);
  }

  /** docs/protocol.md#command-lists: the command list of a service (`incoming/{D}/{service}/commands.json`). */
  fetchCommands(service: string) {
    return fetchCommands(this, service);
  }

  /** docs/protocol.md#command-lists: uploads `status/{D}/{service}/last_monitoring_status.json`. */
  reportCommands(service: string, report: Parameters<typeof reportCommands>[2]) {
    return reportCommands(this, service, report);
  }

  /** docs/protocol.md#commands: answers `capture` and `commands` messages on `P/fleet/D/commands` with hooks. */
  listen(options: TListenOptions) {
    return listenForCommands(this, options);
  }

  /**
   * The whole core flow: ask for a form, POST the file to storage, report completion. Retries
   * what is worth retrying (503/429/network) with back-off, and asks for a fresh form when
   * storage refuses an expired one.
   */
  async uploadFile(input: TUploadFileInput): Promise<TUploadFileResult> {
    const { size } = await stat(input.path);
    const filename = input.filename ?? path.basename(input.path);
    const contentType = input.contentType ?? guessContentType(filename);
    const sizeMb = Math.max(1, Math.ceil(size / (1024 * 1024)));
    const attempts = input.attempts ?? 5;
    const requestId = input.requestId ?? randomUUID();
    const sha256 = input.sha256 === false ? undefined : (input.sha256 ?? (await sha256OfFile(input.path)));
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const form = await this.requestUpload({
          sessionId: input.sessionId,
          filename,
          contentType,
          sizeMb,
          overwrite: input.overwrite,
          requestId,
          ...(sha256 !== undefined ? { sha256 } : {}),
          ...(input.via ? { via: input.via } : {}),
        });
        const stored = await postForm(
          form,
          { path: input.path, size, filename: path.basename(filename), contentType },
          input.onProgress,
          input.throttle,
        );
        const completed = await this.completeUpload(form.object_key).catch(() => null);
        return {
          fileId: form.file_id,
          objectKey: form.object_key,
          size,
          etag: completed?.etag ?? stored.etag,
          ...(sha256 !== undefined ? { sha256 } : {}),
          attempts: attempt,
        };
      } catch (error) {
        lastError = error;
        const retry =
          error instanceof StorageRejectedError
            ? error.needsFreshForm || error.retryable
            : error instanceof FleetdropError
              ? error.retryable
              : true;
        if (!retry || attempt === attempts) throw error;
        const backoff = Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random());
        const asked = error instanceof FleetdropError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
        await (this.options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(Math.max(backoff, asked));
      }
    }
    throw lastError;
  }
}

/** A JSON field as text: strings as they are, other scalars through String, objects as JSON, `fallback` when missing. */
function jsonText(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? fallback;
}

/** CONNACK codes for "this protocol version is not spoken here": 3.1.1's 1, MQTT 5's 0x84. */
const UNACCEPTABLE_PROTOCOL = new Set([1, 0x84]);

async function openClient(options: TDeviceOptions, protocolVersion: 4 | 5): Promise<MqttClient> {
  const presence = createTopics(options.topicPrefix ?? DEFAULT_TOPIC_PREFIX).device(options.deviceId).presence;
  const client = mqtt.connect(options.url, {
    // Capture (docs/protocol.md#presence): the dashboard reads the retained presence to tell "device offline".
    ...(options.announcePresence
      ? { will: { topic: presence, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1 as const, retain: true } }
      : {}),
    clientId: options.clientId ?? options.deviceId,
    username: options.username ?? (options.password !== undefined ? options.deviceId : undefined),
    password: options.password,
    protocolVersion,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ca: fileRef(options.ca),
    cert: fileRef(options.cert),
    key: fileRef(options.key),
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      client.end(true);
      const failed = new FleetdropError(`cannot connect to ${options.url} as ${options.deviceId}: ${error.message}`, "connect_failed", 0);
      // Carries the CONNACK code (mqtt's ErrorWithReasonCode) for the version fallback in connect.
      failed.cause = error;
      reject(failed);
    };
    client.once("connect", () => {
      client.off("error", fail);
      disableNagle(client);
      resolve();
    });
    client.once("error", fail);
  });
  return client;
}
