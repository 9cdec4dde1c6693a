/**
 * Streams a body into a new temp file while computing its MD5 and size, with back-pressure (the
 * body is never held in memory) and an optional size limit that aborts as soon as it is passed.
 * On any failure the temp file is removed before the promise rejects.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import type { WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * The file stream batches the socket-sized (64 KiB) chunks that arrive while a write is in
 * flight into one writev of up to this size; with the parser's 512 KiB buffers an upload holds
 * about 3 MiB at most when the disk is slower than the network (normally far less).
 */
const WRITE_HIGH_WATER_MARK = 2 * 1024 * 1024;

export class SizeLimitExceededError extends Error {
  readonly limit: number;
  readonly received: number;

  constructor(limit: number, received: number) {
    super(`the body exceeds the limit of ${limit} bytes`);
    this.name = "SizeLimitExceededError";
    this.limit = limit;
    this.received = received;
  }
}

export type TTempFileResult = { size: number; md5Hex: string };

export async function writeTempFile(
  tempPath: string,
  body: Readable | Uint8Array | string,
  options: { maxBytes?: number; signal?: AbortSignal } = {},
): Promise<TTempFileResult> {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const source = typeof body === "string" || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
  // The callback-based stream costs less CPU per write than FileHandle.createWriteStream.
  const file = createWriteStream(tempPath, { flags: "wx", highWaterMark: WRITE_HIGH_WATER_MARK });
  let created = false;
  file.once("open", () => {
    created = true;
  });
  const hash = createHash("md5");
  let size = 0;
  const meter = new Writable({
    highWaterMark: WRITE_HIGH_WATER_MARK,
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) {
        callback(new SizeLimitExceededError(maxBytes, size));
        return;
      }
      hash.update(chunk);
      if (file.write(chunk)) callback();
      else file.once("drain", () => callback());
    },
    final(callback) {
      file.end(callback);
    },
    destroy(error, callback) {
      file.destroy(error ?? undefined);
      callback(error);
    },
  });
  file.once("error", (error) => meter.destroy(error));
  try {
    await pipeline(source, meter, options.signal ? { signal: options.signal } : {});
    await closed(file);
    return { size, md5Hex: hash.digest("hex") };
  } catch (error) {
    // Wait until the descriptor is closed (an open in progress completes first), so that the
    // file cannot appear after it was removed; never remove a file this call did not create.
    file.destroy();
    await closed(file);
    if (created) await rm(tempPath, { force: true });
    throw error;
  }
}

function closed(stream: WriteStream): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once("close", () => resolve()));
}
