/**
 * Assembly while segments arrive (file staging, fs store): as soon as this worker has made bytes
 * [0, n) durable in a transfer's staging file, they are hashed (SHA-256). At `fin` only the tail
 * is left: compare the SHA-256 and, when it matches, the fs store adopts the staging file as the
 * object by renaming it — the bytes are written to disk once, never copied, and hashed once (the
 * object's ETag is that SHA-256: see the storage package's TAdoptedFile). A wrong checksum
 * stores nothing.
 *
 * Where the bytes are hashed from: a batch that continues the file exactly where the hash stands
 * (a device sending in order, the usual case) is hashed from the segments' own buffers, which
 * hold what was just written; anything else (segments out of order, overlaps, a gap filled later)
 * is read back from the staging file.
 *
 * It is an optimisation with a fallback, never the only path: a transfer whose bytes this worker
 * did not all see (another worker of the shared subscription stored some, the worker restarted),
 * that went past the number of eager assemblies allowed at once, or whose staging file the store
 * cannot adopt (another filesystem), is assembled at `fin` from the staging file as before.
 * Memory per eager assembly is one read buffer; at most `limit` run at once.
 *
 * Nothing writes to a staging file once `fin` has run: this worker orders a transfer's segments
 * and commands (ordering.ts), and a segment that another worker looked up before the `fin` can
 * only repeat bytes already recorded (the `fin` found every range held) — unless a device sends
 * different bytes for a range it already sent, which can only damage its own file.
 */
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { mergeRanges, type TByteRange } from "@fleetdrop/shared/protocol/transfer";
import type { Store, TObjectInfo } from "@fleetdrop/storage/store";
import type { FileStaging } from "./file-staging";

const READ_SIZE = 1024 * 1024;

/** A store that can take a complete file on its filesystem as an object without copying it (FsStore). */
export type TAdoptingStore = Store & {
  adopt(key: string, sourcePath: string, file: { size: number; sha256Hex: string; contentType: string }): Promise<TObjectInfo>;
};

export function canAdopt(store: Store): store is TAdoptingStore {
  return typeof (store as Partial<TAdoptingStore>).adopt === "function";
}

/** A segment made durable: where it is in the file and, when the caller still holds them, its bytes. */
export type TStagedSegment = { offset: number; length: number; data?: Buffer };

type TEager = {
  transferId: string;
  objectKey: string;
  contentType: string;
  /** Ranges this worker made durable (merged). */
  ranges: TByteRange[];
  /** Bytes hashed so far. */
  pumped: number;
  sha256: Hash;
  handle: FileHandle | null;
  pumping: Promise<void> | null;
  failed: Error | null;
};

export type TEagerFinish =
  | { outcome: "stored"; sha256: string; etag: string; size: number; storedContentType?: string }
  | { outcome: "checksum_mismatch"; sha256: string }
  /** This worker cannot finish it eagerly: assemble from the staging file instead. */
  | { outcome: "fallback" };

/** Transfers whose ranges are remembered before their eager assembly starts (batches finish out of order). */
const KNOWN_LIMIT = 1000;

export class EagerAssembler {
  private readonly running = new Map<string, TEager>();
  /** Ranges made durable by this worker for transfers not (yet) assembled eagerly. */
  private readonly known = new Map<string, TByteRange[]>();

  constructor(
    private readonly staging: FileStaging,
    private readonly store: TAdoptingStore,
    private readonly limit: number,
  ) {}

  get active(): number {
    return this.running.size;
  }

  /**
   * Segments of a transfer are durable at their offsets: hash what became contiguous. `data`, when
   * given, is each segment's bytes as written.
   */
  staged(transfer: { id: string; objectKey: string; contentType: string }, writes: TStagedSegment[]): void {
    const added = writes.map((write): TByteRange => [write.offset, write.offset + write.length]);
    let eager = this.running.get(transfer.id);
    if (!eager) {
      const ranges = mergeRanges([...(this.known.get(transfer.id) ?? []), ...added]);
      // Start once the beginning of the file is there, and only while there is room.
      if (ranges[0]?.[0] !== 0 || this.running.size >= this.limit) {
        this.known.delete(transfer.id);
        this.known.set(transfer.id, ranges);
        if (this.known.size > KNOWN_LIMIT) this.known.delete(this.known.keys().next().value!);
        return;
      }
      this.known.delete(transfer.id);
      eager = {
        transferId: transfer.id,
        objectKey: transfer.objectKey,
        contentType: transfer.contentType,
        ranges,
        pumped: 0,
        sha256: createHash("sha256"),
        handle: null,
        pumping: null,
        failed: null,
      };
      this.running.set(transfer.id, eager);
    }
    eager.ranges = mergeRanges([...eager.ranges, ...added]);
    if (!eager.pumping && !eager.failed) this.hashInOrder(eager, writes);
    this.pump(eager);
  }

  /**
   * Hashes the segments straight from their buffers while they continue the file exactly where
   * the hash stands, in offset order and without overlap; it stops at the first that does not
   * (the pump then reads the rest from the file). Only while no read of the pump is under way.
   */
  private hashInOrder(eager: TEager, writes: TStagedSegment[]): void {
    const ordered = writes.length > 1 ? [...writes].sort((x, y) => x.offset - y.offset) : writes;
    for (const write of ordered) {
      if (!write.data || write.offset !== eager.pumped || write.data.length !== write.length) return;
      eager.sha256.update(write.data);
      eager.pumped += write.length;
    }
  }

  private contiguous(eager: TEager): number {
    const first = eager.ranges[0];
    return first && first[0] === 0 ? first[1] : 0;
  }

  /** Starts the pump unless it runs; it restarts itself if bytes were recorded while it finished. */
  private pump(eager: TEager): void {
    if (eager.pumping) return;
    eager.pumping = this.pumpLoop(eager).finally(() => {
      eager.pumping = null;
      if (!eager.failed && eager.pumped < this.contiguous(eager)) this.pump(eager);
    });
  }

  private async pumpLoop(eager: TEager): Promise<void> {
    try {
      eager.handle ??= await open(this.staging.pathOf(eager.transferId), "r");
      for (;;) {
        const until = this.contiguous(eager);
        if (eager.failed || eager.pumped >= until) return;
        const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, until - eager.pumped));
        const { bytesRead } = await eager.handle.read(buffer, 0, buffer.length, eager.pumped);
        if (bytesRead !== buffer.length) throw new Error(`staging file shorter than its recorded ranges (${eager.pumped + bytesRead})`);
        eager.sha256.update(buffer);
        eager.pumped += bytesRead;
      }
    } catch (error) {
      eager.failed ??= error as Error;
    }
  }

  /** Waits until the pump has nothing left to do. */
  private async settled(eager: TEager): Promise<void> {
    while (eager.pumping) await eager.pumping;
  }

  /**
   * At `fin`: finish the eager assembly of a transfer of `size` bytes if this worker saw all of
   * it; otherwise drop it and answer "fallback".
   */
  async finish(transferId: string, size: number, expectedSha256: string | null): Promise<TEagerFinish> {
    this.known.delete(transferId);
    const eager = this.running.get(transferId);
    if (!eager) return { outcome: "fallback" };
    await this.settled(eager);
    if (eager.failed || this.contiguous(eager) !== size || eager.ranges.length !== 1 || eager.pumped !== size) {
      await this.drop(transferId);
      return { outcome: "fallback" };
    }
    this.running.delete(transferId);
    await eager.handle?.close().catch(() => {});
    const sha256 = eager.sha256.digest("hex");
    if (expectedSha256 !== null && sha256 !== expectedSha256) return { outcome: "checksum_mismatch", sha256 };
    try {
      // No write of this worker may land in the file once it is the object.
      await this.staging.idle(transferId);
      const stored = await this.store.adopt(eager.objectKey, this.staging.pathOf(transferId), { size, sha256Hex: sha256, contentType: eager.contentType });
      return { outcome: "stored", sha256, etag: stored.etag, size: stored.size, ...(stored.contentType ? { storedContentType: stored.contentType } : {}) };
    } catch {
      // Not adoptable (another filesystem, a size that differs, a key clash): the staging file is
      // where it was, and assembling from it gives the real outcome.
      return { outcome: "fallback" };
    }
  }

  /** Abandons an eager assembly (abort, expiry, fallback). */
  async drop(transferId: string): Promise<void> {
    this.known.delete(transferId);
    const eager = this.running.get(transferId);
    if (!eager) return;
    this.running.delete(transferId);
    eager.failed ??= new Error("dropped");
    await this.settled(eager);
    await eager.handle?.close().catch(() => {});
  }

  /** Drops eager assemblies whose transfers are no longer active (for the clean-up job). */
  async dropUnless(isActive: (ids: string[]) => Promise<Set<string>>): Promise<void> {
    const ids = [...this.running.keys(), ...this.known.keys()];
    if (ids.length === 0) return;
    const active = await isActive(ids);
    for (const id of ids) if (!active.has(id)) await this.drop(id);
  }

  async dropAll(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.drop(id);
  }
}
