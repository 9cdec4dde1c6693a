/**
 * File transfer over MQTT (docs/protocol.md#file_transfer) from the device side: send a file over
 * the MQTT connection itself, in segments, and resume after a disconnect or a restart from the
 * ranges the platform says it holds.
 *
 *   const result = await uploadOverMqtt(device, { sessionId: 1, path: "big.mcap" });
 *
 * The file_id is derived from the device, session, name, size and modification time, so running
 * the same upload again (after a crash, a reboot) continues the same transfer; a small state file
 * (optional) remembers it too, so `fleetdrop-device resume` can find unfinished uploads.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { coveredBytes, missingRanges, segmentsOf, type TByteRange } from "@fleetdrop/shared/protocol/transfer";
import type { MqttClient } from "mqtt";
import { guessContentType } from "./content-type";
import { existingOf, FleetdropError, retryAfterOf, TimeoutError } from "./errors";
import { sha256OfFile } from "./file-digest";
import type { TUploadProgress } from "./upload";

/** What the SDK needs of a connected device (FleetdropDevice provides it). */
export type TTransferConnection = {
  readonly client: MqttClient;
  readonly deviceId: string;
  readonly timeoutMs: number;
  /** `P/fleet/D/` */
  readonly base: string;
};

export type TUploadOverMqttInput = {
  sessionId: number;
  path: string;
  /** Name in the session (default: the file's base name); may contain folders. */
  filename?: string;
  contentType?: string;
  /** Any JSON kept with the file and shown in the dashboard. */
  userData?: unknown;
  /**
   * Replace a file already uploaded under this name (a new version of a file sent before);
   * without it the platform refuses with `file_exists`.
   */
  overwrite?: boolean;
  /** Default: derived from device, session, name, size, mtime and overwrite (stable across restarts). */
  fileId?: string;
  /** Bytes per segment (default 64 KiB). */
  segmentSize?: number;
  /** Segments published and not yet acknowledged by the broker at once (default 32). */
  window?: number;
  /** Where to remember the transfer until it is done (JSON, deleted on success). */
  stateFile?: string;
  /** Attempts after a disconnect, timeout or a 5xx (default 10). */
  attempts?: number;
  onProgress?: (progress: TUploadProgress) => void;
  /** Resolves when `bytes` more may be sent (a bandwidth cap). */
  throttle?: (bytes: number) => Promise<void>;
  /** Called when resuming: how much the platform already held. */
  onResume?: (info: { fileId: string; held: number; total: number }) => void;
};

export type TUploadOverMqttResult = {
  fileId: string;
  objectKey: string;
  size: number;
  sha256: string;
  etag?: string;
  /** Bytes published by this call (less than size when resumed). */
  sent: number;
  attempts: number;
};

/** The state file: enough to resume with `fleetdrop-device resume`. */
export type TTransferState = {
  version: 1;
  fileId: string;
  deviceId: string;
  sessionId: number;
  path: string;
  filename: string;
  contentType: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  segmentSize: number;
  userData?: unknown;
  /** The transfer replaces a file already uploaded under its name. */
  overwrite?: true;
  /** Bytes the platform was known to hold when this was last written. */
  held: number;
  updatedAt: string;
};

type TAnswer = Record<string, unknown> & {
  success?: boolean;
  status?: number;
  code?: string;
  error?: string;
  file_id?: string;
  command?: string;
  request_id?: string;
};

const listeners = new WeakMap<MqttClient, TransferChannel>();

/** Answers on `file_transfer/response`, matched by request_id; segment refusals by file_id. */
class TransferChannel {
  private readonly pending = new Map<string, (answer: TAnswer) => void>();
  private readonly segmentErrors = new Map<string, (answer: TAnswer) => void>();
  private subscribed: Promise<unknown> | null = null;
  readonly responseTopic: string;

  constructor(private readonly connection: TTransferConnection) {
    this.responseTopic = `${connection.base}file_transfer/response`;
    connection.client.on("message", (topic, payload) => {
      if (topic !== this.responseTopic) return;
      let answer: TAnswer;
      try {
        answer = JSON.parse(payload.toString("utf8")) as TAnswer;
      } catch {
        return;
      }
      const waiter = answer.request_id ? this.pending.get(answer.request_id) : undefined;
      if (waiter) {
        this.pending.delete(answer.request_id!);
        waiter(answer);
      } else if (answer.command === "segment" && answer.success === false && answer.file_id) {
        this.segmentErrors.get(answer.file_id)?.(answer);
      }
    });
  }

  static of(connection: TTransferConnection): TransferChannel {
    let channel = listeners.get(connection.client);
    if (!channel) {
      channel = new TransferChannel(connection);
      listeners.set(connection.client, channel);
    }
    return channel;
  }

  ready(): Promise<unknown> {
    this.subscribed ??= this.connection.client.subscribeAsync(this.responseTopic, { qos: 1 });
    return this.subscribed;
  }

  onSegmentError(fileId: string, handler: ((answer: TAnswer) => void) | null): void {
    if (handler) this.segmentErrors.set(fileId, handler);
    else this.segmentErrors.delete(fileId);
  }

  /** Publishes a command with a request_id and waits for its answer (throws on refusal). */
  async command(fileId: string, suffix: string, body: Record<string, unknown>, timeoutMs: number): Promise<TAnswer> {
    await this.ready();
    const requestId = randomUUID();
    const answer = new Promise<TAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new TimeoutError(`file_transfer ${suffix.split("/")[0]}`, timeoutMs));
      }, timeoutMs);
      this.pending.set(requestId, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
    try {
      await this.connection.client.publishAsync(
        `${this.connection.base}file_transfer/${fileId}/${suffix}`,
        JSON.stringify({ ...body, request_id: requestId }),
        { qos: 1 },
      );
    } catch (error) {
      this.pending.delete(requestId);
      throw new FleetdropError(`publish failed: ${(error as Error).message}`, "network_error", 0);
    }
    return answer;
  }
}

/** The error a refused answer stands for (with the answer's extra fields). */
export class TransferRefusedError extends FleetdropError {
  constructor(readonly answer: TAnswer) {
    super(
      String(answer.error ?? "refused"),
      String(answer.code ?? "unknown"),
      Number(answer.status ?? 500),
      retryAfterOf(answer),
      existingOf(answer),
    );
    this.name = "TransferRefusedError";
  }

  /**
   * The platform refused the transfer for a reason no retry or resume can change (the name is
   * taken, the session is closed or not this device's, the file is too large, …). Rate limits,
   * platform errors, missing ranges and the device's own standing (disabled, unknown: an admin
   * may change it) are not permanent.
   */
  get permanent(): boolean {
    if (this.status < 400 || this.status >= 500 || this.status === 429) return false;
    return !TRANSIENT_REFUSALS.has(this.code);
  }
}

const TRANSIENT_REFUSALS = new Set(["incomplete", "device_disabled", "device_unknown", "rate_limited"]);

/**
 * A file_id that stays the same for the same file in the same session (resume after restart).
 * An overwrite is another transfer than a plain one of the same file (the platform compares
 * `overwrite` on a re-init), so it gets its own id; plain transfers keep the ids they always had.
 */
export function stableFileId(input: {
  deviceId: string;
  sessionId: number;
  filename: string;
  size: number;
  mtimeMs: number;
  overwrite?: boolean;
}): string {
  const parts: unknown[] = [input.deviceId, input.sessionId, input.filename, input.size, Math.trunc(input.mtimeMs)];
  if (input.overwrite) parts.push("overwrite");
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest("base64url");
  return `f${digest.slice(0, 31)}`;
}

export async function writeTransferState(file: string, state: TTransferState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, file);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function waitConnected(client: MqttClient, timeoutMs: number): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("connect", onConnect);
      reject(new FleetdropError(`not reconnected to the broker within ${timeoutMs} ms`, "connect_failed", 0));
    }, timeoutMs);
    const onConnect = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("connect", onConnect);
  });
}

export async function uploadOverMqtt(connection: TTransferConnection, input: TUploadOverMqttInput): Promise<TUploadOverMqttResult> {
  const info = await stat(input.path);
  if (!info.isFile()) throw new FleetdropError(`${input.path}: not a file`, "not_a_file", 0);
  const size = info.size;
  const filename = input.filename ?? path.basename(input.path);
  const contentType = input.contentType ?? guessContentType(filename);
  const segmentSize = input.segmentSize ?? 64 * 1024;
  const windowSize = Math.max(1, input.window ?? 32);
  const attempts = input.attempts ?? 10;
  const fileId =
    input.fileId ??
    stableFileId({
      deviceId: connection.deviceId,
      sessionId: input.sessionId,
      filename,
      size,
      mtimeMs: info.mtimeMs,
      overwrite: input.overwrite === true,
    });
  const sha256 = await sha256OfFile(input.path);
  const channel = TransferChannel.of(connection);
  await channel.ready();

  const state: TTransferState = {
    version: 1,
    fileId,
    deviceId: connection.deviceId,
    sessionId: input.sessionId,
    path: path.resolve(input.path),
    filename,
    contentType,
    size,
    mtimeMs: info.mtimeMs,
    sha256,
    segmentSize,
    ...(input.userData === undefined ? {} : { userData: input.userData }),
    ...(input.overwrite ? { overwrite: true as const } : {}),
    held: 0,
    updatedAt: new Date().toISOString(),
  };
  const saveState = async (held: number) => {
    if (!input.stateFile) return;
    state.held = held;
    state.updatedAt = new Date().toISOString();
    await writeTransferState(input.stateFile, state);
  };
  await saveState(0);

  const initBody = {
    session_id: input.sessionId,
    name: filename,
    size,
    content_type: contentType,
    checksum: sha256,
    ...(input.userData === undefined ? {} : { user_data: input.userData }),
    ...(input.overwrite ? { overwrite: true } : {}),
  };
  const finTimeout = Math.max(connection.timeoutMs, 30_000 + size / 20_000);
  const handle = await open(input.path, "r");
  let sent = 0;
  let lastError: unknown;
  try {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let refusal: TransferRefusedError | null = null;
      channel.onSegmentError(fileId, (answer) => {
        refusal ??= new TransferRefusedError(answer);
      });
      try {
        await waitConnected(connection.client, Math.max(connection.timeoutMs, 30_000));
        const init = await channel.command(fileId, "init", initBody, connection.timeoutMs);
        if (init.success !== true) {
          if (init.code === "transfer_completed") {
            // Finished in an earlier run (the answer to its fin was lost): ask for the result.
            const done = await channel.command(fileId, `fin/${size}/${sha256}`, {}, finTimeout);
            if (done.success === true) return finish(done, attempt);
          }
          throw new TransferRefusedError(init);
        }
        let received = (init.received as TByteRange[] | undefined) ?? [];
        const held = coveredBytes(received);
        if (held > 0) input.onResume?.({ fileId, held, total: size });
        await saveState(held);
        let done = held;
        input.onProgress?.({ sent: done, total: size });

        for (let round = 0; round < 5; round++) {
          const missing = missingRanges(received, size);
          const inFlight = new Set<Promise<void>>();
          for (const [offset, length] of segmentsOf(missing, segmentSize)) {
            if (refusal) throw refusal;
            if (input.throttle) await input.throttle(length);
            const bytes = Buffer.allocUnsafe(length);
            const { bytesRead } = await handle.read(bytes, 0, length, offset);
            if (bytesRead !== length) throw new FleetdropError(`${input.path} changed while it was being sent`, "file_changed", 0);
            const publish: Promise<void> = connection.client
              .publishAsync(`${connection.base}file_transfer/${fileId}/${offset}`, bytes, { qos: 1 })
              .then(() => {
                sent += length;
                done += length;
                input.onProgress?.({ sent: done, total: size });
              })
              .finally(() => inFlight.delete(publish));
            // Awaited below; a failure after the loop gave up (disconnect) must not go unhandled.
            publish.catch(() => {});
            inFlight.add(publish);
            if (inFlight.size >= windowSize) await Promise.race(inFlight);
          }
          await Promise.all(inFlight);
          if (refusal) throw refusal;
          const fin = await channel.command(fileId, `fin/${size}/${sha256}`, {}, finTimeout);
          if (fin.success === true) return finish(fin, attempt);
          if (fin.code !== "incomplete") throw new TransferRefusedError(fin);
          // Segments were lost (or are still being stored by another worker): send what is missing.
          received = (fin.received as TByteRange[] | undefined) ?? [];
          done = coveredBytes(received);
          await saveState(done);
        }
        throw new FleetdropError("segments keep going missing; giving up after 5 rounds", "incomplete", 409);
      } catch (error) {
        lastError = error;
        // Its state would only make every later resume fail the same way.
        if (error instanceof TransferRefusedError && error.permanent && input.stateFile) await rm(input.stateFile, { force: true });
        const retryable = error instanceof FleetdropError ? error.retryable : false;
        if (!retryable || attempt === attempts) throw error;
        // A 429 rate_limited (a command or a segment) says how long to wait.
        const asked = error instanceof FleetdropError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
        await sleep(Math.max(asked, Math.min(10_000, 250 * 2 ** (attempt - 1))));
      } finally {
        channel.onSegmentError(fileId, null);
      }
    }
    throw lastError;
  } finally {
    await handle.close();
  }

  async function finish(answer: TAnswer, attempt: number): Promise<TUploadOverMqttResult> {
    if (input.stateFile) await rm(input.stateFile, { force: true });
    input.onProgress?.({ sent: size, total: size });
    return {
      fileId,
      objectKey: String(answer.object_key),
      size,
      sha256,
      ...(typeof answer.etag === "string" ? { etag: answer.etag } : {}),
      sent,
      attempts: attempt,
    };
  }
}

/** Asks which byte ranges the platform holds for a transfer of this device. */
export async function transferStatus(
  connection: TTransferConnection,
  fileId: string,
): Promise<{ state: string; size: number | null; received: TByteRange[] }> {
  const answer = await TransferChannel.of(connection).command(fileId, "status", {}, connection.timeoutMs);
  if (answer.success !== true) throw new TransferRefusedError(answer);
  return { state: String(answer.state), size: (answer.size as number | null) ?? null, received: (answer.received as TByteRange[]) ?? [] };
}

/** Drops an unfinished transfer and what the platform holds of it. */
export async function abortTransfer(connection: TTransferConnection, fileId: string): Promise<void> {
  const answer = await TransferChannel.of(connection).command(fileId, "abort", {}, connection.timeoutMs);
  if (answer.success !== true) throw new TransferRefusedError(answer);
}
