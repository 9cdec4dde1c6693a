/**
 * Segment staging in files (TRANSFER_STAGING_DIR), the fast alternative to staging the bytes in
 * PostgreSQL: each transfer has one sparse file `<transfer id>.part`, a segment is written at its
 * offset, and a batch is made durable with one fdatasync per file before its ranges are recorded
 * in PostgreSQL (rows of transfer_segments with no bytes) and before its PUBACKs go out. The held
 * ranges therefore still come from PostgreSQL, and a range is recorded only once its bytes are on
 * disk. The folder must be shared by every worker (a local disk for one worker, a shared volume
 * for several — the same requirement as the fs store's folder).
 */
import { constants, createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, readdir, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type TStagedWrite = { transferId: string; offset: number; data: Buffer };

export class FileStaging {
  private ready: Promise<unknown> | null = null;

  constructor(readonly dir: string) {}

  pathOf(transferId: string): string {
    if (!UUID.test(transferId)) throw new Error(`not a transfer id: ${transferId}`);
    return path.join(this.dir, `${transferId}.part`);
  }

  /** Writes the segments and makes them durable (one fdatasync per file). */
  async write(items: TStagedWrite[]): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const byTransfer = new Map<string, TStagedWrite[]>();
    for (const item of items) {
      const list = byTransfer.get(item.transferId);
      if (list) list.push(item);
      else byTransfer.set(item.transferId, [item]);
    }
    let created = false;
    await Promise.all(
      [...byTransfer].map(async ([transferId, writes]) => {
        const file = this.pathOf(transferId);
        let handle;
        try {
          handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
          created = true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          handle = await open(file, constants.O_WRONLY);
        }
        try {
          // Segments that follow each other go out in one writev (a batch is usually one run).
          writes.sort((x, y) => x.offset - y.offset);
          for (let start = 0; start < writes.length; ) {
            let end = start + 1;
            let next = writes[start]!.offset + writes[start]!.data.length;
            while (end < writes.length && writes[end]!.offset === next && end - start < 512) {
              next += writes[end]!.data.length;
              end++;
            }
            await writeFully(handle, writes.slice(start, end).map((write) => write.data), writes[start]!.offset);
            start = end;
          }
          await handle.datasync();
        } finally {
          await handle.close();
        }
      }),
    );
    if (created) {
      // A new file's name must be durable too.
      const dir = await open(this.dir, constants.O_RDONLY);
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  }

  /** The bytes [0, size) of a staged transfer. */
  read(transferId: string, size: number): ReadStream {
    return createReadStream(this.pathOf(transferId), { start: 0, end: Math.max(0, size - 1), highWaterMark: 1024 * 1024 });
  }

  async remove(transferId: string): Promise<void> {
    await rm(this.pathOf(transferId), { force: true });
  }

  /** Deletes staging files of transfers that are no longer active (older than `minAgeMs`). */
  async sweep(isActive: (ids: string[]) => Promise<Set<string>>, minAgeMs = 60_000): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = names.filter((name) => name.endsWith(".part")).map((name) => name.slice(0, -5)).filter((id) => UUID.test(id));
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

/** writev until every byte is written (a short write continues where it stopped). */
async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    let skip = bytesWritten;
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
