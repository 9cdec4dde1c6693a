/**
 * Segment staging in files (TRANSFER_STAGING_DIR), the fast alternative to staging the bytes in
 * PostgreSQL: each transfer has one sparse file `<transfer id>.part`, a segment is written at its
 * offset, and a batch is durable before its ranges are recorded in PostgreSQL (rows of
 * transfer_segments with no bytes) and before its PUBACKs go out. The held ranges therefore still
 * come from PostgreSQL, and a range is recorded only once its bytes are on disk. The folder must
 * be shared by every worker (a local disk for one worker, a shared volume for several — the same
 * requirement as the fs store's folder).
 *
 * A batch opens its transfer's file with O_DSYNC: each write returns once its bytes are on disk,
 * so the batch waits on one write per run of adjacent segments (the close is not waited for), not
 * on a separate fdatasync. Batches of one transfer that overlap in time share the open file; it is
 * closed as soon as none is writing. Nothing keeps a staging file open between batches: once
 * `fin` has made it the object (the fs store adopts it by renaming), no descriptor of this worker
 * can still write into it.
 *
 * Segments go to disk with O_DIRECT where they can: the whole 4 KiB blocks of a run of adjacent
 * segments that starts on a 4 KiB boundary (everything a device sending 64 KiB segments sends,
 * but the last bytes of a file) are copied into page-aligned buffers and written around the page
 * cache (the storage package's direct-io.ts, which the fs store's uploads use too, says what that
 * saves). The rest, and everything on filesystems without O_DIRECT, is written through the page
 * cache (a second descriptor of the same file). Both are durable when the write returns (O_DSYNC). Reading
 * a staging file back (a hash at `fin`, a copy into S3) then reads the disk, not the cache.
 *
 * Opening an existing staging file is a synchronous open(2) on the event loop: microseconds on a
 * local disk, where a round trip through libuv's thread pool cost a loaded worker 4 ms per batch
 * (measured: 4.4 -> 0.7 ms, 181 -> 206 MB/s for 64 KiB segments). Creating one (and making its
 * name durable) stays asynchronous. On a shared network volume each open is a round trip that
 * blocks the loop: about one per batch of segments.
 */
import { constants, createReadStream, openSync, type ReadStream } from "node:fs";
import { mkdir, readdir, rm, stat, utimes } from "node:fs/promises";
import path from "node:path";
import {
  AlignedBufferPool,
  closeFd,
  DIRECT_ALIGN,
  DirectAppender,
  isDirectIoRefused,
  openFd,
  syncFolder,
  writevAll,
} from "@fleetdrop/storage/direct-io";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type TStagedWrite = { transferId: string; offset: number; data: Buffer };

/** A byte range of one transfer's staging file. */
export type TStagedRange = { transferId: string; offset: number; length: number };

/** Segments in one writev at most (Linux accepts 1024 buffers per call). */
const MAX_RUN_SEGMENTS = 512;
/** A recorded range's length is an int4 column: runs stay well below it. */
const MAX_RUN_BYTES = 1024 * 1024 * 1024;

/**
 * Segments of one transfer that follow each other, in any order of arrival, as runs: each run is
 * written with one writev and recorded as one range row (a batch of 32 segments of 64 KiB sent in
 * order is one row of 2 MiB). Overlapping segments start runs of their own; the held ranges merge
 * them.
 */
export function adjacentRuns<T extends TStagedRange>(segments: T[]): (TStagedRange & { segments: T[] })[] {
  const sorted = [...segments].sort((x, y) => (x.transferId === y.transferId ? x.offset - y.offset : x.transferId < y.transferId ? -1 : 1));
  const runs: (TStagedRange & { segments: T[] })[] = [];
  for (const segment of sorted) {
    const last = runs.at(-1);
    if (
      last &&
      last.transferId === segment.transferId &&
      last.offset + last.length === segment.offset &&
      last.length + segment.length <= MAX_RUN_BYTES &&
      last.segments.length < MAX_RUN_SEGMENTS
    ) {
      last.length += segment.length;
      last.segments.push(segment);
    } else {
      runs.push({ transferId: segment.transferId, offset: segment.offset, length: segment.length, segments: [segment] });
    }
  }
  return runs;
}

/**
 * A staging file open for writing: `fd` with O_DIRECT when `direct` (the filesystem allowed it),
 * `buffered` a second descriptor without it, opened for the first run that is not aligned.
 */
type TOpenFile = { fd: Promise<number>; direct: boolean; buffered: Promise<number> | null; users: number; idleWaiters: (() => void)[] };

const DIRECT_CHUNKS_IN_FLIGHT = 4;

export class FileStaging {
  private ready: Promise<unknown> | null = null;
  private readonly open = new Map<string, TOpenFile>();
  /** False once the filesystem refused O_DIRECT (tmpfs before Linux 6.6, some network filesystems). */
  private directAllowed = true;
  /** Page-aligned buffers of 1 MiB for direct writes. */
  private readonly bounce = new AlignedBufferPool(1024 * 1024, 8);
  /** Bytes written with O_DIRECT and through the page cache (for tests and the benchmark). */
  readonly written = { direct: 0, buffered: 0 };

  constructor(readonly dir: string) {}

  pathOf(transferId: string): string {
    if (!UUID.test(transferId)) throw new Error(`not a transfer id: ${transferId}`);
    return path.join(this.dir, `${transferId}.part`);
  }

  /**
   * Writes the segments, a run of adjacent ones at a time (see adjacentRuns); resolves once they
   * are durable, with the ranges written (one per run), which are what to record.
   */
  async write(items: TStagedWrite[]): Promise<TStagedRange[]> {
    const runs = adjacentRuns(items.map((item) => ({ ...item, length: item.data.length })));
    const byTransfer = new Map<string, typeof runs>();
    for (const run of runs) {
      const list = byTransfer.get(run.transferId);
      if (list) list.push(run);
      else byTransfer.set(run.transferId, [run]);
    }
    await Promise.all(
      [...byTransfer].map(async ([transferId, transferRuns]) => {
        const entry = this.acquire(transferId);
        try {
          await entry.fd;
          await Promise.all(
            transferRuns.map((run) =>
              this.writeRun(
                transferId,
                entry,
                run.segments.map((segment) => segment.data),
                run.offset,
                run.length,
              ),
            ),
          );
        } finally {
          this.release(transferId, entry);
        }
      }),
    );
    return runs.map(({ transferId, offset, length }) => ({ transferId, offset, length }));
  }

  /** The transfer's open file, opened (and created, with its name made durable) if need be. */
  private acquire(transferId: string): TOpenFile {
    let entry = this.open.get(transferId);
    if (!entry) {
      const opened: TOpenFile = { fd: Promise.resolve(-1), direct: this.directAllowed, buffered: null, users: 0, idleWaiters: [] };
      opened.fd = this.openFile(this.pathOf(transferId), opened);
      this.open.set(transferId, opened);
      opened.fd.catch(() => {
        if (this.open.get(transferId) === opened) this.open.delete(transferId);
      });
      entry = opened;
    }
    entry.users++;
    return entry;
  }

  /** Opens (creating it, with its name made durable, if need be) with O_DIRECT while `entry.direct`. */
  private async openFile(file: string, entry: TOpenFile): Promise<number> {
    try {
      // openSync runs at once, before the first await of the helper.
      return await this.withDirectFallback(entry, async (flags) => openSync(file, constants.O_WRONLY | constants.O_DSYNC | flags));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    let fd: number;
    try {
      fd = await this.withDirectFallback(entry, (flags) =>
        openFd(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC | flags, 0o600),
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      return this.withDirectFallback(entry, (flags) => openFd(file, constants.O_WRONLY | constants.O_DSYNC | flags));
    }
    try {
      // A new file's name must be durable before any of its ranges is recorded.
      await syncFolder(this.dir);
      return fd;
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      throw error;
    }
  }

  /** Runs an open with O_DIRECT while allowed; EINVAL (not supported here) retries without it, for good. */
  private async withDirectFallback(entry: TOpenFile, openWith: (flags: number) => Promise<number>): Promise<number> {
    if (entry.direct) {
      try {
        return await openWith(constants.O_DIRECT);
      } catch (error) {
        if (!isDirectIoRefused(error)) throw error;
        this.directAllowed = entry.direct = false;
      }
    }
    return openWith(0);
  }

  /**
   * Writes one run of adjacent segments (`length` bytes at `position`): when it starts on a 4 KiB
   * boundary, its whole 4 KiB blocks directly and the rest (a file's last bytes) through the page
   * cache; otherwise all of it through the page cache. The two parts share no page.
   */
  private async writeRun(transferId: string, entry: TOpenFile, buffers: Buffer[], position: number, length: number): Promise<void> {
    const directLength = entry.direct && this.directAllowed && position % DIRECT_ALIGN === 0 ? length - (length % DIRECT_ALIGN) : 0;
    if (directLength > 0) {
      const [head, tail] = splitBuffers(buffers, directLength);
      try {
        const fd = await entry.fd;
        await Promise.all([
          this.writeDirect(fd, head, position).then(() => {
            this.written.direct += directLength;
          }),
          tail.length > 0 ? this.writeBuffered(transferId, entry, tail, position + directLength, length - directLength) : null,
        ]);
        return;
      } catch (error) {
        // A filesystem that opens with O_DIRECT but refuses the write: through the page cache from now on.
        if (!isDirectIoRefused(error)) throw error;
        this.directAllowed = false;
      }
    }
    await this.writeBuffered(transferId, entry, buffers, position, length);
  }

  private async writeBuffered(transferId: string, entry: TOpenFile, buffers: Buffer[], position: number, length: number): Promise<void> {
    let fd = await entry.fd;
    if (entry.direct) {
      entry.buffered ??= Promise.resolve().then(() => openSync(this.pathOf(transferId), constants.O_WRONLY | constants.O_DSYNC));
      fd = await entry.buffered;
    }
    await writevAll(fd, buffers, position);
    this.written.buffered += length;
  }

  /**
   * Copies the run into page-aligned buffers of 1 MiB and writes them, up to DIRECT_CHUNKS_IN_FLIGHT
   * at once: a loaded machine takes several milliseconds per direct write, however small.
   */
  private async writeDirect(fd: number, buffers: Buffer[], position: number): Promise<void> {
    const appender = new DirectAppender(fd, this.bounce, DIRECT_CHUNKS_IN_FLIGHT, position);
    try {
      for (const buffer of buffers) await appender.write(buffer);
      await appender.flush();
    } catch (error) {
      await appender.abandon();
      throw error;
    }
  }

  private release(transferId: string, entry: TOpenFile): void {
    entry.users--;
    if (entry.users > 0) return;
    if (this.open.get(transferId) === entry) this.open.delete(transferId);
    for (const resolve of entry.idleWaiters.splice(0)) resolve();
    void entry.fd.then(closeFd).catch(() => undefined);
    void entry.buffered?.then(closeFd).catch(() => undefined);
  }

  /** Waits until no write of this worker is in progress on a transfer's staging file. */
  async idle(transferId: string): Promise<void> {
    const entry = this.open.get(transferId);
    if (!entry || entry.users === 0) return;
    await new Promise<void>((resolve) => entry.idleWaiters.push(resolve));
  }

  /** Waits for every write in progress (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.open.keys()].map((transferId) => this.idle(transferId)));
  }

  /** The bytes [0, size) of a staged transfer. */
  read(transferId: string, size: number): ReadStream {
    return createReadStream(this.pathOf(transferId), { start: 0, end: Math.max(0, size - 1), highWaterMark: 1024 * 1024 });
  }

  /**
   * The path of a staging file about to be adopted as an object, its mtime set to now: the store
   * renames it through its tmp/ folder, whose clean-up removes files untouched for a while, and
   * a staging file's last write may be long past.
   */
  async pathForAdoption(transferId: string): Promise<string> {
    const file = this.pathOf(transferId);
    const now = new Date();
    await utimes(file, now, now);
    return file;
  }

  async remove(transferId: string): Promise<void> {
    await this.idle(transferId);
    await rm(this.pathOf(transferId), { force: true });
  }

  /** Deletes staging files of transfers that are no longer active (older than `minAgeMs`). */
  async sweep(isActive: (ids: string[]) => Promise<Set<string>>, minAgeMs = 60_000): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = names
      .filter((name) => name.endsWith(".part"))
      .map((name) => name.slice(0, -5))
      .filter((id) => UUID.test(id));
    if (ids.length === 0) return 0;
    const active = await isActive(ids);
    let removed = 0;
    for (const id of ids) {
      if (active.has(id)) continue;
      const info = await stat(this.pathOf(id)).catch(() => null);
      if (!info || Date.now() - info.mtimeMs < minAgeMs) continue;
      await this.remove(id);
      removed++;
    }
    return removed;
  }
}

/** The first `bytes` of a list of buffers, and the rest. */
function splitBuffers(buffers: Buffer[], bytes: number): [Buffer[], Buffer[]] {
  const head: Buffer[] = [];
  let left = bytes;
  for (const [index, buffer] of buffers.entries()) {
    if (left >= buffer.length) {
      head.push(buffer);
      left -= buffer.length;
      continue;
    }
    if (left > 0) head.push(buffer.subarray(0, left));
    return [head, [buffer.subarray(left), ...buffers.slice(index + 1)]];
  }
  return [head, []];
}
