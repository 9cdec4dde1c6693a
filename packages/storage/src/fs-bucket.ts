/**
 * One filesystem bucket, addressed by full keys (store prefixes are applied by FsStore). Writes
 * go to tmp/ first and are renamed into objects/ (atomic on one filesystem), then the metadata
 * is written; a reader that finds metadata of another version of the file waits briefly for the
 * commit to finish and otherwise rebuilds the metadata from the file itself.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";

import { DEFAULT_CONTENT_TYPE } from "@fleetdrop/shared/names";

import { syncFolder } from "./direct-io";
import { FsBucketLayout } from "./fs-layout";
import { withKeyLock } from "./fs-key-lock";
import { walkKeys } from "./fs-list";
import { isMissing, readMeta, writeMeta } from "./fs-metadata";
import type { TFsObjectMeta } from "./fs-metadata";
import { writeTempFile } from "./fs-temp-file";
import { assertObjectKey } from "./object-key";
import { CannotAdoptFileError, ObjectKeyConflictError, RangeNotSatisfiableError } from "./store";
import type { TObjectInfo, TOpenOptions } from "./store";

/** How long a reader waits for a commit in progress before rebuilding metadata. */
const CONSISTENCY_RETRIES = [5, 20, 50];
const READ_HIGH_WATER_MARK = 256 * 1024;

export type TFsOpened = { body: Readable; info: TObjectInfo; range?: { start: number; end: number } };

/**
 * What a committed file's metadata records. The ETag is the quoted MD5 of the bytes, as S3 gives
 * for a single PUT or POST, for everything this bucket writes itself; a file adopted whole (an
 * MQTT transfer, already checked against its SHA-256) gets the quoted SHA-256 instead, so that
 * its bytes need not be hashed a second time. An ETag is opaque (S3's own are not MD5s for
 * multipart uploads); 64 hex digits cannot be mistaken for an MD5. (Metadata rebuilt from the
 * bytes after a crash records their MD5.)
 */
export type TAdoptedFile = { size: number; sha256Hex: string; contentType: string };
export type TCommittedFile =
  /** What writeTempFile measured; `sha256Hex` is recorded with the object when given. */
  | { size: number; md5Hex: string; sha256Hex?: string; contentType: string }
  | TAdoptedFile
  /** A completed multipart upload: S3's form of ETag (fs-multipart.ts), already quoted. */
  | { size: number; etag: string; contentType: string };

function etagOf(file: TCommittedFile): string {
  if ("etag" in file) return file.etag;
  return `"${"md5Hex" in file ? file.md5Hex : file.sha256Hex}"`;
}

export class FsBucket {
  readonly layout: FsBucketLayout;

  constructor(rootDir: string, bucket: string) {
    this.layout = new FsBucketLayout(rootDir, bucket);
  }

  /**
   * Moves a finished temp file into place as `key` and records its metadata. `precondition` runs
   * under the key's lock with what the key holds at that moment; what it throws aborts the commit
   * with nothing replaced (the caller removes the temp file).
   */
  async commit(
    tempPath: string,
    key: string,
    file: TCommittedFile,
    precondition?: (existing: TObjectInfo | null) => Promise<void>,
  ): Promise<TObjectInfo> {
    const objectPath = this.layout.objectPath(key);
    const metaPath = this.layout.metaPath(key);
    return withKeyLock(objectPath, async () => {
      if (precondition) await precondition(await this.head(key));
      const tempStats = await stat(tempPath);
      await this.#renameIntoPlace(tempPath, objectPath, key);
      const meta: TFsObjectMeta = {
        v: 1,
        size: file.size,
        etag: etagOf(file),
        contentType: file.contentType,
        ...("sha256Hex" in file && file.sha256Hex !== undefined ? { sha256: file.sha256Hex } : {}),
        lastModified: new Date().toISOString(),
        ino: tempStats.ino,
        mtimeMs: tempStats.mtimeMs,
      };
      await writeMeta(metaPath, meta);
      return toInfo(key, meta);
    });
  }

  /**
   * Makes an existing, complete file the object `key` without copying it: it is moved into tmp/
   * (a rename: same filesystem only) and committed like an upload. `file` must describe its bytes
   * (the caller hashed them). CannotAdoptFileError, with the file left where it was, when it is
   * on another filesystem or is not `file.size` bytes; if the commit fails it is moved back.
   */
  async adopt(sourcePath: string, key: string, file: TAdoptedFile): Promise<TObjectInfo> {
    assertObjectKey(key);
    const { size } = await stat(sourcePath);
    if (size !== file.size) throw new CannotAdoptFileError(`it has ${size} bytes, not ${file.size}`);
    const tempPath = await this.layout.newTempPath();
    try {
      await rename(sourcePath, tempPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EXDEV")
        throw new CannotAdoptFileError("it is on another filesystem", { cause: error });
      throw error;
    }
    try {
      return await this.commit(tempPath, key, file);
    } catch (error) {
      await rename(tempPath, sourcePath).catch(() => rm(tempPath, { force: true }));
      throw error;
    }
  }

  async put(key: string, body: Readable | Uint8Array | string, contentType: string): Promise<TObjectInfo> {
    assertObjectKey(key);
    const tempPath = await this.layout.newTempPath();
    const written = await writeTempFile(tempPath, body);
    try {
      return await this.commit(tempPath, key, { ...written, contentType });
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  async head(key: string): Promise<TObjectInfo | null> {
    const opened = await this.#openConsistent(key);
    if (!opened) return null;
    await opened.handle.close();
    return opened.info;
  }

  async open(key: string, options: TOpenOptions = {}): Promise<TFsOpened | null> {
    assertRange(options.range);
    const opened = await this.#openConsistent(key);
    if (!opened) return null;
    const { handle, info } = opened;
    let range: { start: number; end: number } | undefined;
    if (options.range) {
      const { start } = options.range;
      if (start >= info.size) {
        await handle.close();
        throw new RangeNotSatisfiableError(info.size);
      }
      range = { start, end: Math.min(options.range.end ?? info.size - 1, info.size - 1) };
    }
    // Reads from the open descriptor: the bytes are those of the version `info` describes.
    const body = handle.createReadStream({ start: range?.start ?? 0, end: range?.end, highWaterMark: READ_HIGH_WATER_MARK });
    return range ? { body, info, range } : { body, info };
  }

  async delete(key: string): Promise<void> {
    const objectPath = this.layout.objectPath(key);
    const metaPath = this.layout.metaPath(key);
    await withKeyLock(objectPath, async () => {
      await removeFile(objectPath);
      await removeFile(metaPath);
    });
    await pruneEmptyFolders(path.dirname(objectPath), this.layout.objectsDir);
    await pruneEmptyFolders(path.dirname(metaPath), this.layout.metaDir);
  }

  /** Up to `limit` objects after `startAfter` whose keys start with `prefix`, and whether more follow. */
  async list(prefix: string, limit: number, startAfter?: string): Promise<{ objects: TObjectInfo[]; more: boolean }> {
    const objects: TObjectInfo[] = [];
    const walk = walkKeys({ objectsDir: this.layout.objectsDir, prefix, startAfter });
    for await (const key of walk) {
      if (objects.length === limit) {
        await walk.return(undefined);
        return { objects, more: true };
      }
      const info = await this.head(key); // null when deleted meanwhile
      if (info) objects.push(info);
    }
    return { objects, more: false };
  }

  /** Throws unless the bucket folder is writable (creates and removes a file in tmp/). */
  async checkWritable(): Promise<void> {
    const file = await this.layout.newTempPath();
    await writeFile(file, "");
    await rm(file, { force: true });
  }

  /** Removes temp files older than `maxAgeMs` (uploads cut off by a crash). */
  async removeStaleTempFiles(maxAgeMs: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.layout.tmpDir);
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
    let removed = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const name of names) {
      const file = path.join(this.layout.tmpDir, name);
      const stats = await stat(file).catch(() => null);
      if (stats && stats.mtimeMs < cutoff) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async #renameIntoPlace(tempPath: string, objectPath: string, key: string): Promise<void> {
    // A concurrent delete may prune the parent folder between mkdir and rename: try again.
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(path.dirname(objectPath), { recursive: true });
        await rename(tempPath, objectPath);
        // The file's bytes are durable (writeTempFile, or the caller's for adopt); so is its new name.
        await syncFolder(path.dirname(objectPath));
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOTDIR" || code === "EEXIST") {
          throw new ObjectKeyConflictError(key, "a folder in its path is already an object");
        }
        if (code === "EISDIR" || code === "ENOTEMPTY") {
          throw new ObjectKeyConflictError(key, "other objects are stored under it as a folder");
        }
        if (code === "ENOENT" && attempt < 3) continue;
        throw error;
      }
    }
  }

  /**
   * Opens the object file and returns it with metadata that describes that very file (same
   * inode or mtime, same size). Waits briefly for a commit in progress; rebuilds metadata that
   * stays inconsistent (a crash between the renames, or files copied in by hand).
   */
  async #openConsistent(key: string): Promise<{ handle: FileHandle; info: TObjectInfo } | null> {
    const objectPath = this.layout.objectPath(key);
    const metaPath = this.layout.metaPath(key);
    for (let attempt = 0; ; attempt++) {
      const handle = await openFile(objectPath);
      if (!handle) return null;
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) {
          await handle.close();
          return null; // a folder: a prefix of other keys, not an object
        }
        const meta = await readMeta(metaPath);
        if (meta && describes(meta, stats)) return { handle, info: toInfo(key, meta) };
        if (attempt >= CONSISTENCY_RETRIES.length) {
          const rebuilt = await this.#rebuildMeta(handle, stats, metaPath, meta);
          return { handle, info: toInfo(key, rebuilt) };
        }
      } catch (error) {
        await handle.close();
        throw error;
      }
      await handle.close();
      await delay(CONSISTENCY_RETRIES[attempt]);
    }
  }

  async #rebuildMeta(handle: FileHandle, stats: Stats, metaPath: string, stale: TFsObjectMeta | null): Promise<TFsObjectMeta> {
    const hash = createHash("md5");
    for await (const chunk of handle.createReadStream({ start: 0, autoClose: false, highWaterMark: READ_HIGH_WATER_MARK })) {
      hash.update(chunk as Buffer);
    }
    const meta: TFsObjectMeta = {
      v: 1,
      size: stats.size,
      etag: `"${hash.digest("hex")}"`,
      contentType: stale?.contentType ?? DEFAULT_CONTENT_TYPE,
      lastModified: stats.mtime.toISOString(),
      ino: stats.ino,
      mtimeMs: stats.mtimeMs,
    };
    await writeMeta(metaPath, meta);
    return meta;
  }
}

function assertRange(range: TOpenOptions["range"]): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new Error("open: range must have integers 0 <= start <= end");
  }
}

function describes(meta: TFsObjectMeta, stats: Stats): boolean {
  return meta.size === stats.size && (meta.ino === stats.ino || meta.mtimeMs === stats.mtimeMs);
}

function toInfo(key: string, meta: TFsObjectMeta): TObjectInfo {
  const info: TObjectInfo = {
    key,
    size: meta.size,
    etag: meta.etag,
    contentType: meta.contentType,
    lastModified: new Date(meta.lastModified),
  };
  if (typeof meta.sha256 === "string" && /^[0-9a-f]{64}$/.test(meta.sha256)) info.sha256 = meta.sha256;
  return info;
}

async function openFile(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, "r");
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === "EISDIR") return null;
    throw error;
  }
}

async function removeFile(file: string): Promise<void> {
  try {
    await rm(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Missing, or a folder (a prefix of other keys): nothing to delete, as in S3.
    if (isMissing(error) || code === "EISDIR" || code === "ERR_FS_EISDIR") return;
    throw error;
  }
}

/** Removes empty folders from `dir` up to (not including) `root`. */
async function pruneEmptyFolders(dir: string, root: string): Promise<void> {
  let current = dir;
  while (current.startsWith(root + path.sep)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or gone): stop
    }
    current = path.dirname(current);
  }
}
