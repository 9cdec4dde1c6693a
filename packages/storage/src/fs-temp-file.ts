/**
 * Streams a body into a new temp file while computing its MD5, SHA-256 and size, with back-pressure (the
 * body is never held in memory) and an optional size limit that aborts as soon as it is passed.
 * When the promise resolves the bytes are on disk (an upload answered 204 survives a crash);
 * on any failure the temp file is removed before the promise rejects.
 *
 * The file is written with O_DIRECT | O_DSYNC through aligned 1 MiB buffers (direct-io.ts):
 * durable as it goes, and without the kernel's page-cache copy, the largest CPU cost of a large
 * upload. Where the filesystem refuses O_DIRECT it is written through the page cache and
 * flushed (fdatasync) before it is closed.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { rm, utimes } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AlignedBufferPool,
  closeFd,
  DIRECT_WRITE_FLAGS,
  DirectAppender,
  fdatasyncFd,
  isDirectIoRefused,
  openFd,
  writevAll,
} from "./direct-io";

/**
 * Chunks that arrive while a write is in flight are written together (one writev through the
 * page cache, or copied into the next aligned buffer); with the parser's 512 KiB buffers an
 * upload holds a few MiB at most when the disk is slower than the network (normally far less).
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

/**
 * While a temp file is open its mtime is set to now at least this often, even when no bytes
 * reached the disk meanwhile (a slow upload filling an aligned buffer): a clean-up that removes
 * temp files untouched for much longer than this never removes one being written, in any
 * process sharing the folder.
 */
export const TEMP_FILE_TOUCH_MS = 15_000;

/**
 * `md5Hex` makes the ETag; `sha256Hex` is kept with the object (head returns it) and checked
 * against a form's checksum. `io`: how the bytes went to disk (for tests and diagnostics).
 */
export type TTempFileResult = { size: number; md5Hex: string; sha256Hex: string; io: "direct" | "buffered" };

/** Aligned buffers shared by all uploads: each holds at most 3 (one filling, two being written). */
const DIRECT_BUFFERS = new AlignedBufferPool(1024 * 1024, 4);

export async function writeTempFile(
  tempPath: string,
  body: Readable | Uint8Array | string,
  /** `direct: false` writes through the page cache (what happens where O_DIRECT is refused). */
  options: { maxBytes?: number; signal?: AbortSignal; direct?: boolean } = {},
): Promise<TTempFileResult> {
  const source = typeof body === "string" || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
  // The sink exists (and listens to the body's errors through the pipeline) before anything is
  // awaited: it opens the file itself, and writes wait for that.
  const file = new TempFileSink(tempPath, options.maxBytes ?? Number.POSITIVE_INFINITY, options.direct !== false);
  try {
    await pipeline(source, file, options.signal ? { signal: options.signal } : {});
    return file.result();
  } catch (error) {
    await file.discard();
    throw error;
  }
}

class TempFileSink extends Writable {
  private fd: number | null = null;
  private created = false;
  private appender: DirectAppender | null = null;
  /** The write in progress: the file is closed only once it settled (a closed fd number can be reused). */
  private writing: Promise<void> = Promise.resolve();
  private size = 0;
  private readonly hash = createHash("md5");
  private readonly sha256 = createHash("sha256");
  private toucher: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly direct: boolean,
  ) {
    super({ highWaterMark: WRITE_HIGH_WATER_MARK });
  }

  /** The open (started at construction): a failure may come before it finished. */
  private opening: Promise<void> = Promise.resolve();

  override _construct(callback: (error?: Error | null) => void): void {
    this.opening = this.open();
    this.opening.then(() => callback(), callback);
  }

  private async open(): Promise<void> {
    await this.create();
    this.toucher = setInterval(() => {
      const now = new Date();
      // By name, not descriptor: a descriptor number may be reused once closed.
      utimes(this.path, now, now).catch(() => undefined);
    }, TEMP_FILE_TOUCH_MS);
    this.toucher.unref();
  }

  private async create(): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    if (this.direct) {
      try {
        this.fd = await openFd(this.path, flags | DIRECT_WRITE_FLAGS, 0o600);
        this.created = true;
        this.appender = new DirectAppender(this.fd, DIRECT_BUFFERS);
        return;
      } catch (error) {
        if (!isDirectIoRefused(error)) throw error;
        // Linux may have created the file before refusing O_DIRECT; the name is this call's own.
        await rm(this.path, { force: true });
      }
    }
    this.fd = await openFd(this.path, flags, 0o600);
    this.created = true;
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map(({ chunk }) => chunk);
    const received = buffers.reduce((sum, buffer) => sum + buffer.length, this.size);
    if (received > this.maxBytes) {
      callback(new SizeLimitExceededError(this.maxBytes, received));
      return;
    }
    for (const buffer of buffers) {
      this.hash.update(buffer);
      this.sha256.update(buffer);
    }
    const at = this.size;
    this.size = received;
    this.writing = this.writeOut(buffers, at);
    this.writing.then(() => callback(), callback);
  }

  private async writeOut(buffers: Buffer[], at: number): Promise<void> {
    if (this.appender) {
      for (const buffer of buffers) {
        if (this.destroyed) throw new Error("the upload was abandoned");
        await this.appender.write(buffer);
      }
      return;
    }
    await writevAll(this.fd!, buffers, at);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const done = this.appender ? this.appender.finish() : fdatasyncFd(this.fd!);
    done.then(() => this.closeFile()).then(() => callback(), callback);
  }

  result(): TTempFileResult {
    return {
      size: this.size,
      md5Hex: this.hash.digest("hex"),
      sha256Hex: this.sha256.digest("hex"),
      io: this.appender ? "direct" : "buffered",
    };
  }

  /** After a failure: waits for the writes in flight, closes the file and removes it if this call created it. */
  async discard(): Promise<void> {
    await this.opening.catch(() => undefined);
    await this.writing.catch(() => undefined);
    await this.appender?.abandon();
    await this.closeFile().catch(() => undefined);
    if (this.created) await rm(this.path, { force: true });
  }

  private async closeFile(): Promise<void> {
    if (this.toucher) clearInterval(this.toucher);
    this.toucher = null;
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await closeFd(fd);
  }
}
