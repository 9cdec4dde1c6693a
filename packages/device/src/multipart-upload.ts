/**
 * Multipart uploads over HTTPS (docs/protocol.md#multipart-uploads) from the device side: the
 * file goes to storage in parts, several in parallel, each PUT to its presigned URL; after a
 * crash or a reboot the same call (same `statePath`) asks which parts storage holds and sends
 * only the others.
 *
 *   const result = await device.uploadMultipart("run12.mcap", { session: 42, statePath: "run12.state.json" });
 *
 * What is remembered in the state file is the upload's id and what identifies the local file
 * (path, size, mtime); parts themselves are never remembered locally: storage is asked. The
 * platform also resumes a create repeated with the same file (name, size, part size, checksum),
 * so a lost state file costs a checksum pass, not the parts sent.
 */
import { RateLimiter, type TRateClock } from "./rate-limiter";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import path from "node:path";
import type { TOperationAnswer } from "@fleetdrop/shared/operations";
import { guessContentType } from "./content-type";
import { sha256OfFile } from "./file-digest";
import type { FleetdropDevice } from "./client";
import { FleetdropError, StorageRejectedError } from "./errors";
import { sendToStorage, type TUploadProgress } from "./upload";

export type TMultipartUploadOptions = {
  /** The session to upload into. */
  session: number;
  /** Name in the session (default: the file's base name); may contain folders. */
  filename?: string;
  contentType?: string;
  overwrite?: boolean;
  /** Bytes per part: a whole number of MiB from 5 MiB to 5 GiB (default: the platform's, 64 MiB or more). */
  partSize?: number;
  /** Parts in flight at once (default 4). */
  concurrency?: number;
  /** Bytes per second over all parts together (default: no cap). */
  maxRate?: number;
  /**
   * A cap shared with other uploads (a device agent's bandwidth cap): resolves when `bytes` more
   * may go out. Takes the place of `maxRate`.
   */
  throttle?: (bytes: number) => Promise<void>;
  /** Send the file's SHA-256 so the platform checks what it joined (one extra read of the file). Default true. */
  checksum?: boolean;
  /** Where to remember the upload until it is done (JSON; removed on success). */
  statePath?: string;
  /** Attempts per part after a network error or a 5xx (default 5). */
  attempts?: number;
  onProgress?: (progress: TUploadProgress) => void;
  /** Called as each part starts and is stored (for logs, or a device agent's own bookkeeping). */
  onPart?: (event: { partNumber: number; phase: "start" | "stored" }) => void;
  /** Called when an upload is resumed: how much storage already held. */
  onResume?: (info: { uploadId: string; held: number; total: number }) => void;
  /** The clock the rate cap waits by (tests): default real time. */
  clock?: TRateClock;
};

export type TMultipartUploadResult = {
  uploadId: string;
  fileId: string;
  objectKey: string;
  size: number;
  etag: string;
  partCount: number;
  /** Parts this call sent (fewer than partCount when resumed), and how many of them were sent more than once. */
  partsSent: number;
  partsHeld: number;
  retries: number;
};

/** The state file. */
export type TMultipartState = {
  version: 1;
  kind: "multipart";
  uploadId: string;
  deviceId: string;
  sessionId: number;
  path: string;
  filename: string;
  /** The Content-Type asked for (absent in state files of older versions: then guessed again). */
  contentType?: string;
  size: number;
  mtimeMs: number;
  sha256: string | null;
  updatedAt: string;
};

type TPage = TOperationAnswer<"multipartParts">;

async function readState(statePath: string | undefined): Promise<TMultipartState | null> {
  if (!statePath) return null;
  try {
    const state = JSON.parse(await readFile(statePath, "utf8")) as TMultipartState;
    return state.version === 1 && state.kind === "multipart" ? state : null;
  } catch {
    return null;
  }
}

async function writeState(statePath: string | undefined, state: TMultipartState): Promise<void> {
  if (!statePath) return;
  await mkdir(path.dirname(statePath), { recursive: true });
  const temp = `${statePath}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(state, null, 2));
  await rename(temp, statePath);
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof FleetdropError && codes.includes(error.code);
}

export async function uploadMultipart(
  device: FleetdropDevice,
  file: string,
  options: TMultipartUploadOptions,
): Promise<TMultipartUploadResult> {
  const info = await stat(file);
  const filename = options.filename ?? path.basename(file);
  const contentType = options.contentType ?? guessContentType(filename);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const attempts = options.attempts ?? 5;
  const limiter = options.maxRate ? new RateLimiter(options.maxRate, options.clock) : null;
  const throttle = options.throttle ?? (limiter ? (bytes: number) => limiter.take(bytes) : null);
  const sleep = device.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const saved = await readState(options.statePath);
  const usable =
    saved &&
    saved.deviceId === device.options.deviceId &&
    saved.sessionId === options.session &&
    saved.path === path.resolve(file) &&
    saved.filename === filename &&
    saved.size === info.size &&
    saved.mtimeMs === info.mtimeMs
      ? saved
      : null;
  const sha256 = usable ? usable.sha256 : options.checksum === false ? null : await sha256OfFile(file);

  let first: TPage | null = null;
  let resumed = false;
  if (usable) {
    first = await device.request("multipartParts", { upload_id: usable.uploadId }).catch((error: unknown) => {
      // Gone (aborted, expired, completed by a run that died before removing the state): start afresh.
      if (isCode(error, "multipart_not_found", "multipart_completed", "session_closed")) return null;
      throw error;
    });
    resumed = first !== null;
  }
  first ??= await device.request("multipartCreate", {
    session_id: options.session,
    filename,
    size: info.size,
    content_type: contentType,
    ...(options.partSize ? { part_size: options.partSize } : {}),
    ...(sha256 ? { sha256 } : {}),
    ...(options.overwrite ? { overwrite: true } : {}),
  });
  const uploadId = first.upload_id;
  await writeState(options.statePath, {
    version: 1,
    kind: "multipart",
    uploadId,
    deviceId: device.options.deviceId,
    sessionId: options.session,
    path: path.resolve(file),
    filename,
    contentType,
    size: info.size,
    mtimeMs: info.mtimeMs,
    sha256,
    updatedAt: new Date().toISOString(),
  });

  const { part_size: partSize, part_count: partCount } = first;
  const lengthOf = (n: number) => Math.min(partSize, info.size - (n - 1) * partSize);
  let done = 0;
  let partsHeld = 0;
  let partsSent = 0;
  let retries = 0;
  const inFlight = new Map<number, number>();
  const report = () => {
    let sending = 0;
    for (const bytes of inFlight.values()) sending += bytes;
    options.onProgress?.({ sent: Math.min(info.size, done + sending), total: info.size });
  };

  // Connections kept between parts (a presigned URL's scheme is storage's: either may come).
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  try {
    /** Sends the parts of every page from `page` on; returns when each was PUT. */
    const sendFrom = async (page: TPage, countHeld: boolean) => {
      let current: TPage | null = page;
      while (current) {
        if (countHeld) {
          for (const n of current.held) {
            done += lengthOf(n);
            partsHeld++;
          }
        }
        const queue = [...current.parts];
        const worker = async () => {
          for (let part = queue.shift(); part; part = queue.shift()) await sendPart(part.part_number, part.url);
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
        current =
          current.next_part === null
            ? null
            : await device.request("multipartParts", { upload_id: uploadId, first_part: current.next_part });
      }
    };

    const sendPart = async (n: number, url: string) => {
      const start = (n - 1) * partSize;
      const length = lengthOf(n);
      options.onPart?.({ partNumber: n, phase: "start" });
      for (let attempt = 1; ; attempt++) {
        inFlight.set(n, 0);
        try {
          await putPart(url, file, start, length, agents, throttle, (sent) => {
            inFlight.set(n, sent);
            report();
          });
          inFlight.delete(n);
          done += length;
          partsSent++;
          report();
          options.onPart?.({ partNumber: n, phase: "stored" });
          return;
        } catch (error) {
          inFlight.delete(n);
          const expired = error instanceof StorageRejectedError && error.status === 403 && /expired/i.test(error.message);
          const retryable = expired || !(error instanceof StorageRejectedError) || error.retryable;
          if (!retryable || attempt >= attempts) throw error;
          retries++;
          if (expired) {
            const fresh: TPage = await device.request("multipartParts", { upload_id: uploadId, first_part: n, count: 1 });
            if (fresh.held.includes(n)) return;
            url = fresh.parts[0]?.url ?? url;
          } else await sleep(Math.min(10_000, 250 * 2 ** (attempt - 1)));
        }
      }
    };

    if (resumed) options.onResume?.({ uploadId, held: first.held.reduce((sum, n) => sum + lengthOf(n), 0), total: info.size });
    await sendFrom(first, true);
    report();
    for (let round = 0; ; round++) {
      try {
        const completed = await device.request("multipartComplete", { upload_id: uploadId });
        if (options.statePath) await rm(options.statePath, { force: true });
        return {
          uploadId,
          fileId: completed.file_id,
          objectKey: completed.object_key,
          size: completed.size,
          etag: completed.etag,
          partCount,
          partsSent,
          partsHeld,
          retries,
        };
      } catch (error) {
        // Joining and checking a large file can outlast one answer's wait: completing is
        // idempotent, so ask again until the platform says it is done (or why not).
        if (isCode(error, "timeout", "storage_unavailable", "database_unavailable") && round < 30) {
          await sleep(2000);
          continue;
        }
        // Storage lost parts it had listed (or a part was replaced meanwhile): send them again.
        if (!isCode(error, "incomplete", "size_mismatch") || round >= 32) throw error;
        const again = await device.request("multipartParts", { upload_id: uploadId });
        await sendFrom(again, false);
      }
    }
  } finally {
    agents.http.destroy();
    agents.https.destroy();
  }
}

/** PUTs `length` bytes of `file` from `start` to a presigned part URL. */
async function putPart(
  url: string,
  file: string,
  start: number,
  length: number,
  agents: { http: HttpAgent; https: HttpsAgent },
  throttle: ((bytes: number) => Promise<void>) | null,
  onSent: (sent: number) => void,
): Promise<string | undefined> {
  const target = new URL(url);
  const https = target.protocol === "https:";
  const request = (https ? httpsRequest : httpRequest)(target, {
    method: "PUT",
    agent: https ? agents.https : agents.http,
    headers: { "content-length": length },
  });
  return (await sendToStorage(request, { path: file, start, length }, `part upload to ${target.origin}`, throttle, onSent)).etag;
}
