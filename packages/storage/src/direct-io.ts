/**
 * Writing large files around the page cache (O_DIRECT), for the fs store's uploads and the
 * worker's transfer staging. A buffered write makes the kernel copy every byte into freshly
 * allocated page-cache pages and write them back later; on the 2-core machines this project is
 * measured on that cost ~0.6 core-seconds per 256 MiB written with O_DSYNC (`dd`: 0.68 s of system
 * time, against 0.06 s with `oflag=direct,dsync`). Direct I/O wants the memory, the file offset
 * and the length aligned to the disk's logical block; 4 KiB covers every disk, and the bytes go
 * through page-aligned buffers (a copy in user space, a fraction of the kernel's cost).
 *
 * Not every filesystem accepts O_DIRECT (tmpfs before Linux 6.6, some network filesystems):
 * callers fall back to buffered writes when the open or a write fails with EINVAL.
 */
import { close, constants, fdatasync, fsync, ftruncate, open, writev } from "node:fs";

export const DIRECT_ALIGN = 4096;

declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

/**
 * A page-aligned buffer of `bytes` (a multiple of 64 KiB): a WebAssembly memory's bytes start on
 * a page boundary, which no Node Buffer promises. Its size is fixed (no growth, so it never moves).
 */
export function alignedBuffer(bytes: number): Buffer {
  const pages = bytes / 65536;
  if (!Number.isInteger(pages) || pages < 1) throw new Error(`an aligned buffer is a whole number of 64 KiB pages, not ${bytes} bytes`);
  return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer);
}

/** Where a DirectAppender takes its aligned buffers from and gives them back to. */
export type TBufferSource = { take(): Buffer; give(buffer: Buffer): void };

/** Aligned buffers of one size, reused: at most `keep` are held while idle. */
export class AlignedBufferPool implements TBufferSource {
  private readonly free: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? alignedBuffer(this.size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

/**
 * Large buffers while few are out, small ones beyond: a large buffer halves the system calls (and
 * the CPU) of a big write, and the cap keeps the memory of many concurrent writers to
 * `maxLarge` large buffers plus small ones. `take` never waits, so a slow writer holding buffers
 * cannot stall the others.
 */
export class TieredBufferPool implements TBufferSource {
  private largeOut = 0;

  constructor(
    private readonly large: AlignedBufferPool,
    private readonly small: AlignedBufferPool,
    private readonly maxLarge: number,
  ) {}

  take(): Buffer {
    if (this.largeOut >= this.maxLarge) return this.small.take();
    this.largeOut++;
    return this.large.take();
  }

  give(buffer: Buffer): void {
    if (buffer.length === this.large.size) {
      this.largeOut--;
      this.large.give(buffer);
    } else {
      this.small.give(buffer);
    }
  }
}

export function isDirectIoRefused(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "EINVAL";
}

export function openFd(file: string, flags: number, mode?: number): Promise<number> {
  return new Promise((resolve, reject) => open(file, flags, mode, (error, fd) => (error ? reject(error) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}

/** Makes a file's data (and the metadata needed to read it) durable. */
export function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/** Makes a folder's entries durable: a file created or renamed in it is then there after a crash. */
export async function syncFolder(folder: string): Promise<void> {
  const fd = await openFd(folder, constants.O_RDONLY);
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    await closeFd(fd);
  }
}

/** Writes all of `buffers` at `position` with writev (a short write continues where it stopped). */
export async function writevAll(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, pending, at, (error, bytes) => (error ? reject(error) : resolve(bytes))),
    );
    at += written;
    let skip = written;
    const rest: Buffer[] = [];
    for (const buffer of pending) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    pending = rest;
  }
}

/**
 * Appends chunks to a file opened with O_DIRECT | O_DSYNC, from `start` (a multiple of
 * DIRECT_ALIGN): the chunks are copied into aligned buffers of `pool.size` bytes, each written as
 * soon as it is full, with at most `inFlight` writes outstanding (`write` resolves when there is
 * room again). `flush` writes what is left, which must end on a block boundary (a run of whole
 * blocks); `finish` ends a whole file instead: it pads the last block with zeros, cuts the file to
 * its real size and makes that durable. When either resolves, every byte is on disk.
 */
export class DirectAppender {
  private current: Buffer | null = null;
  private filled = 0;
  private position: number;
  private readonly writes = new Set<Promise<void>>();
  private failure: unknown = null;
  /** Bytes appended so far. */
  size = 0;

  constructor(
    private readonly fd: number,
    private readonly pool: TBufferSource,
    private readonly inFlight = 2,
    private readonly start = 0,
  ) {
    this.position = start;
  }

  async write(chunk: Buffer): Promise<void> {
    let from = 0;
    while (from < chunk.length) {
      this.throwIfFailed();
      this.current ??= this.pool.take();
      const copied = chunk.copy(this.current, this.filled, from);
      from += copied;
      this.filled += copied;
      this.size += copied;
      if (this.filled === this.current.length) {
        this.submit(this.current, this.filled);
        this.current = null;
        this.filled = 0;
        while (this.writes.size >= this.inFlight) await Promise.race(this.writes);
      }
    }
    this.throwIfFailed();
  }

  async flush(): Promise<void> {
    if (this.filled % DIRECT_ALIGN !== 0) throw new Error(`a direct write must end on a ${DIRECT_ALIGN}-byte boundary`);
    await this.settle(this.filled);
  }

  async finish(): Promise<void> {
    await this.settle(Math.ceil(this.filled / DIRECT_ALIGN) * DIRECT_ALIGN);
    await new Promise<void>((resolve, reject) =>
      ftruncate(this.fd, this.start + this.size, (error) => (error ? reject(error) : resolve())),
    );
    await fdatasyncFd(this.fd);
  }

  /** Waits for the writes in flight and gives their buffers back (after a failure). */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.writes);
    if (this.current) this.pool.give(this.current);
    this.current = null;
  }

  /** Writes the partly filled buffer as `length` bytes (zero-padded) and waits for every write. */
  private async settle(length: number): Promise<void> {
    if (this.current && this.filled > 0) {
      this.current.fill(0, this.filled, length);
      this.submit(this.current, length);
    } else if (this.current) {
      this.pool.give(this.current);
    }
    this.current = null;
    this.filled = 0;
    await Promise.all(this.writes);
    this.throwIfFailed();
  }

  private submit(buffer: Buffer, length: number): void {
    const at = this.position;
    this.position += length;
    const writing: Promise<void> = writevAll(this.fd, [buffer.subarray(0, length)], at)
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.writes.delete(writing);
        this.pool.give(buffer);
      });
    this.writes.add(writing);
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}

export const DIRECT_WRITE_FLAGS = constants.O_DIRECT | constants.O_DSYNC;
