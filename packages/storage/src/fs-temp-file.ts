/**
 * Streams a body into a new temp file while computing its MD5 and size, with back-pressure (the
 * body is never held in memory) and an optional size limit that aborts as soon as it is passed.
 * When the promise resolves the bytes are on disk (an upload answered 204 survives a crash);
 * on any failure the temp file is removed before the promise rejects.
 *
 * The file is written with O_DIRECT | O_DSYNC through aligned 1 MiB buffers (direct-io.ts):
 * durable as it goes, and without the kernel's page-cache copy, the largest CPU cost of a large
 * upload. Where the filesystem refuses O_DIRECT it is written through the page cache and flushed
 * (fsync) before it is closed.
 */
import { createHash, type Hash } from "node:crypto";
import { constants, createWriteStream } from "node:fs";
import type { WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AlignedBufferPool, closeFd, DIRECT_WRITE_FLAGS, DirectAppender, isDirectIoRefused, openFd } from "./direct-io";

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

/** `io`: how the bytes went to disk (for tests and diagnostics). */
export type TTempFileResult = { size: number; md5Hex: string; io: "direct" | "buffered" };

/** Aligned buffers shared by all uploads: each holds at most 3 (one filling, two being written). */
const DIRECT_BUFFERS = new AlignedBufferPool(1024 * 1024, 4);

export async function writeTempFile(
  tempPath: string,
  body: Readable | Uint8Array | string,
  /** `direct: false` writes through the page cache (what happens where O_DIRECT is refused). */
  options: { maxBytes?: number; signal?: AbortSignal; direct?: boolean } = {},
): Promise<TTempFileResult> {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const source = typeof body === "string" || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
  if (options.direct === false) return writeBuffered(tempPath, source, maxBytes, options.signal);
  let fd: number;
  try {
    fd = await openFd(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | DIRECT_WRITE_FLAGS, 0o600);
  } catch (error) {
    if (!isDirectIoRefused(error)) throw error;
    // Linux may have created the file before refusing O_DIRECT; the name is this call's own.
    await rm(tempPath, { force: true });
    return writeBuffered(tempPath, source, maxBytes, options.signal);
  }
  const appender = new DirectAppender(fd, DIRECT_BUFFERS);
  const hash = createHash("md5");
  const sink = new Writable({
    highWaterMark: WRITE_HIGH_WATER_MARK,
    write(chunk: Buffer, _encoding, callback) {
      const size = appender.size + chunk.length;
      if (size > maxBytes) {
        callback(new SizeLimitExceededError(maxBytes, size));
        return;
      }
      hash.update(chunk);
      appender.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      appender.finish().then(() => callback(), callback);
    },
  });
  try {
    await pipeline(source, sink, options.signal ? { signal: options.signal } : {});
    await closeFd(fd);
    return { size: appender.size, md5Hex: hash.digest("hex"), io: "direct" };
  } catch (error) {
    await appender.abandon();
    await closeFd(fd).catch(() => undefined);
    await rm(tempPath, { force: true });
    throw error;
  }
}

/** The same through the page cache, flushed to disk before the file is closed. */
async function writeBuffered(tempPath: string, source: Readable, maxBytes: number, signal: AbortSignal | undefined): Promise<TTempFileResult> {
  // The callback-based stream costs less CPU per write than FileHandle.createWriteStream.
  const file = createWriteStream(tempPath, { flags: "wx", highWaterMark: WRITE_HIGH_WATER_MARK, flush: true });
  let created = false;
  file.once("open", () => {
    created = true;
  });
  const hash: Hash = createHash("md5");
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
    await pipeline(source, meter, signal ? { signal } : {});
    await closed(file);
    return { size, md5Hex: hash.digest("hex"), io: "buffered" };
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
