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
 * hold what was just written. Segments a little ahead of the hash (a batch that finished before
 * the one in front of it) keep their buffers until the gap closes, up to AHEAD_BYTES for all
 * transfers together; anything else (segments far out of order, overlaps) is read back from
 * the staging file. Reading back is the expensive way: staging writes bypass the page cache.
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

/** What a stored assembly answers: the device's SHA-256 and what storage reports of the object. */
export function storedResult(sha256: string, stored: TObjectInfo): TStored {
  return {
    outcome: "stored",
    sha256,
    etag: stored.etag,
    size: stored.size,
    ...(stored.contentType ? { storedContentType: stored.contentType } : {}),
  };
}

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
  /** Durable segments beyond `pumped`, by offset, kept to be hashed from memory (none overlap). */
  ahead: Map<number, Buffer>;
};

/** A file assembled and stored, eagerly or at fin. */
export type TStored = { outcome: "stored"; sha256: string; etag: string; size: number; storedContentType?: string };

export type TEagerFinish =
  | TStored
  | { outcome: "checksum_mismatch"; sha256: string }
  /** This worker cannot finish it eagerly: assemble from the staging file instead. */
  | { outcome: "fallback" };

/** Transfers whose ranges are remembered before their eager assembly starts (batches finish out of order). */
const KNOWN_LIMIT = 1000;
/** Bytes of segments kept in memory ahead of their transfer's hash, all transfers together. */
const AHEAD_BYTES = 8 * 1024 * 1024;

export class EagerAssembler {
  private readonly running = new Map<string, TEager>();
  /** Ranges made durable by this worker for transfers not (yet) assembled eagerly. */
  private readonly known = new Map<string, TByteRange[]>();
  private aheadBytes = 0;

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
        ahead: new Map(),
      };
      this.running.set(transfer.id, eager);
    }
    eager.ranges = mergeRanges([...eager.ranges, ...added]);
    const ordered = writes.length > 1 ? [...writes].sort((x, y) => x.offset - y.offset) : writes;
    const rest = !eager.pumping && !eager.failed ? this.hashInOrder(eager, ordered) : ordered;
    this.keepAhead(eager, rest);
    if (!eager.pumping && !eager.failed) this.hashAhead(eager);
    this.pump(eager);
  }

  /** Keeps the buffers of segments beyond the hash while there is room and they overlap nothing kept. */
  private keepAhead(eager: TEager, writes: TStagedSegment[]): void {
    for (const write of writes) {
      if (!write.data || write.data.length !== write.length || write.offset < eager.pumped) continue;
      if (this.aheadBytes + write.length > AHEAD_BYTES) return;
      const end = write.offset + write.length;
      let overlaps = false;
      for (const [offset, data] of eager.ahead) if (offset < end && write.offset < offset + data.length) overlaps = true;
      if (overlaps) continue;
      eager.ahead.set(write.offset, write.data);
      this.aheadBytes += write.length;
    }
  }

  /** Hashes kept segments while one starts exactly where the hash stands; drops those it passed. */
  private hashAhead(eager: TEager): void {
    for (let data = eager.ahead.get(eager.pumped); data; data = eager.ahead.get(eager.pumped)) {
      eager.ahead.delete(eager.pumped);
      this.aheadBytes -= data.length;
      eager.sha256.update(data);
      eager.pumped += data.length;
    }
    for (const [offset, data] of eager.ahead) {
      if (offset >= eager.pumped) continue;
      eager.ahead.delete(offset);
      this.aheadBytes -= data.length;
    }
  }

  private forgetAhead(eager: TEager): void {
    for (const data of eager.ahead.values()) this.aheadBytes -= data.length;
    eager.ahead.clear();
  }

  /**
   * Hashes the segments straight from their buffers while they continue the file exactly where
   * the hash stands, in offset order and without overlap; it stops at the first that does not
   * and returns the rest. Only while no read of the pump is under way. `ordered`: by offset.
   */
  private hashInOrder(eager: TEager, ordered: TStagedSegment[]): TStagedSegment[] {
    for (const [index, write] of ordered.entries()) {
      if (!write.data || write.offset !== eager.pumped || write.data.length !== write.length) return ordered.slice(index);
      eager.sha256.update(write.data);
      eager.pumped += write.length;
    }
    return [];
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
      for (;;) {
        if (!eager.failed) this.hashAhead(eager);
        const until = this.contiguous(eager);
        if (eager.failed || eager.pumped >= until) return;
        // Read up to the next segment kept in memory.
        let next = until;
        for (const offset of eager.ahead.keys()) if (offset > eager.pumped && offset < next) next = offset;
        eager.handle ??= await open(this.staging.pathOf(eager.transferId), "r");
        const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, next - eager.pumped));
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
    this.forgetAhead(eager);
    await eager.handle?.close().catch(() => {});
    const sha256 = eager.sha256.digest("hex");
    if (expectedSha256 !== null && sha256 !== expectedSha256) return { outcome: "checksum_mismatch", sha256 };
    try {
      // No write of this worker may land in the file once it is the object.
      await this.staging.idle(transferId);
      const stored = await this.store.adopt(eager.objectKey, await this.staging.pathForAdoption(transferId), {
        size,
        sha256Hex: sha256,
        contentType: eager.contentType,
      });
      return storedResult(sha256, stored);
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
    this.forgetAhead(eager);
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
    for (const id of Array.from(this.running.keys())) await this.drop(id);
  }
}
