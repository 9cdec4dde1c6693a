/**
 * Multipart uploads of a filesystem bucket, under `rootDir/<bucket>/multipart/<uploadId>/`:
 *   upload.json  the key, content type, size and part size (written once, at create)
 *   data         the object's bytes: one file of the final size, each part written at its offset
 *   parts/<n>    a part's record (size, ETag), written only once the part's bytes are durable
 *
 * Why one file written at offsets: completion is then a rename of `data` into objects/
 * (FsBucket.commit), so no byte is copied a second time. Joining separate part files would copy
 * every byte again (POSIX has no append-free concatenation outside filesystem-specific reflinks).
 * Part sizes are whole MiB, so every part starts on a block boundary and is written with direct
 * I/O like single uploads (direct-io.ts). `data` is sparse until its parts arrive.
 *
 * What must stay true:
 * - a part's record exists only when its bytes are on disk (fdatasync, or O_DSYNC), and the
 *   record itself is durable (written, synced, renamed, folder synced) before the PUT is answered;
 * - completion and abort first close the upload to new parts and wait for the parts being
 *   written, so no writer can still hold `data` when it becomes the object;
 * - a completion cut off by a crash is finished by calling it again: once `data` was renamed,
 *   the object's metadata (written by commit) carries the upload's ETag and is recognised.
 * Uploads are coordinated within one process (the fs store is served by one worker).
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import {
  AlignedBufferPool,
  TieredBufferPool,
  DIRECT_ALIGN,
  closeFd,
  DIRECT_WRITE_FLAGS,
  DirectAppender,
  fdatasyncFd,
  isDirectIoRefused,
  openFd,
  syncFolder,
  writevAll,
} from "./direct-io";
import type { FsBucket } from "./fs-bucket";
import { isMissing } from "./fs-metadata";
import { assertObjectKey } from "./object-key";
import { assertCreateMultipartInput, assertPartNumber, InvalidPartError, NoSuchUploadError } from "./store";
import type { TCreateMultipartInput, TMultipartUploadInfo, TObjectInfo, TStoredPart } from "./store";

const UPLOAD_ID = /^[0-9a-f]{32}$/;
/**
 * Aligned buffers shared by every part write: 4 MiB ones (half the worker's CPU per GiB of 1 MiB
 * ones) for the first 24 out at once, 96 MiB at most; 1 MiB ones beyond.
 */
const pool = new TieredBufferPool(new AlignedBufferPool(4 * 1024 * 1024, 8), new AlignedBufferPool(1024 * 1024, 8), 24);

type TUploadMeta = { v: 1; key: string; contentType: string; size: number; partSize: number; createdAt: string };

/** A part body that is longer or shorter than its place in the object (answered 400). */
export class PartSizeError extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(`this part must have ${expected} bytes${received > expected ? "; more were sent" : `, not ${received}`}`);
    this.name = "PartSizeError";
  }
}

/** The same part is being written by another request (answered 409). */
export class PartBusyError extends Error {
  constructor(partNumber: number) {
    super(`part ${partNumber} is being written by another request`);
    this.name = "PartBusyError";
  }
}

type TUploadState = { closing: boolean; writing: Set<number>; idle: Array<() => void> };
/** Uploads with writers or a completion in progress in this process, by upload folder. */
const states = new Map<string, TUploadState>();

function stateOf(dir: string): TUploadState {
  let state = states.get(dir);
  if (!state) {
    state = { closing: false, writing: new Set(), idle: [] };
    states.set(dir, state);
  }
  return state;
}

function release(dir: string, state: TUploadState): void {
  if (state.writing.size > 0) return;
  for (const wake of state.idle.splice(0)) wake();
  if (!state.closing) states.delete(dir);
}

export class FsMultipart {
  readonly root: string;

  constructor(private readonly bucket: FsBucket) {
    this.root = path.join(bucket.layout.bucketDir, "multipart");
  }

  async create(storedKey: string, input: TCreateMultipartInput): Promise<{ uploadId: string }> {
    assertCreateMultipartInput(input);
    assertObjectKey(storedKey);
    const uploadId = randomBytes(16).toString("hex");
    const dir = path.join(this.root, uploadId);
    await mkdir(path.join(dir, "parts"), { recursive: true });
    const meta: TUploadMeta = {
      v: 1,
      key: storedKey,
      contentType: input.contentType,
      size: input.size,
      partSize: input.partSize,
      createdAt: new Date().toISOString(),
    };
    const data = await open(path.join(dir, "data"), "w");
    try {
      await data.truncate(input.size);
      await data.sync();
    } finally {
      await data.close();
    }
    await writeDurably(path.join(dir, "upload.json"), JSON.stringify(meta));
    await syncFolder(this.root);
    return { uploadId };
  }

  /** Writes one part's bytes at its offset; resolves with its record once it is durable. */
  async writePart(
    storedKey: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Buffer> | Iterable<Buffer>,
  ): Promise<TStoredPart> {
    assertPartNumber(partNumber);
    const dir = this.#dir(uploadId);
    const meta = await this.#meta(dir, uploadId, storedKey);
    const count = Math.ceil(meta.size / meta.partSize);
    if (partNumber > count) throw new PartSizeError(0, 1);
    const start = (partNumber - 1) * meta.partSize;
    const expected = Math.min(meta.partSize, meta.size - start);
    const state = stateOf(dir);
    if (state.closing) throw new NoSuchUploadError(uploadId);
    if (state.writing.has(partNumber)) throw new PartBusyError(partNumber);
    state.writing.add(partNumber);
    try {
      const written = await writeAt(path.join(dir, "data"), start, expected, body);
      if (written !== expected) throw new PartSizeError(expected, written);
      if (state.closing) throw new NoSuchUploadError(uploadId);
      const part: TStoredPart = { partNumber, size: expected, etag: `"${randomBytes(16).toString("hex")}"` };
      try {
        await writeDurably(path.join(dir, "parts", String(partNumber)), JSON.stringify(part));
      } catch (error) {
        if (isMissing(error)) throw new NoSuchUploadError(uploadId); // aborted meanwhile
        throw error;
      }
      return part;
    } finally {
      state.writing.delete(partNumber);
      release(dir, state);
    }
  }

  async listParts(storedKey: string, uploadId: string): Promise<TStoredPart[]> {
    const dir = this.#dir(uploadId);
    await this.#meta(dir, uploadId, storedKey);
    return readParts(dir);
  }

  async complete(storedKey: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<TObjectInfo> {
    const dir = this.#dir(uploadId);
    const etag = multipartEtag(parts);
    const state = stateOf(dir);
    state.closing = true;
    try {
      while (state.writing.size > 0) await new Promise<void>((resolve) => state.idle.push(resolve));
      // A completion cut off after its rename (the folder gone, or left without `data`): the
      // object is there with this upload's ETag.
      const alreadyJoined = async (): Promise<TObjectInfo | null> => {
        const info = await this.bucket.head(storedKey);
        if (info?.etag !== etag) return null;
        await rm(dir, { recursive: true, force: true });
        return info;
      };
      let meta: TUploadMeta;
      try {
        meta = await this.#meta(dir, uploadId, storedKey);
      } catch (error) {
        if (error instanceof NoSuchUploadError) {
          const joined = await alreadyJoined();
          if (joined) return joined;
        }
        throw error;
      }
      if (!(await stat(path.join(dir, "data")).catch(() => null))) {
        const joined = await alreadyJoined();
        if (joined) return joined;
        throw new NoSuchUploadError(uploadId);
      }
      const held = new Map((await readParts(dir)).map((part) => [part.partNumber, part]));
      const count = Math.ceil(meta.size / meta.partSize);
      if (parts.length !== count) throw new InvalidPartError(`the object has ${count} parts; ${parts.length} were named`);
      parts.forEach((part, index) => {
        if (part.partNumber !== index + 1) throw new InvalidPartError("parts must be named in order 1..N");
        if (held.get(part.partNumber)?.etag !== part.etag)
          throw new InvalidPartError(`part ${part.partNumber} is not held with ETag ${part.etag}`);
      });
      const info = await this.bucket.commit(path.join(dir, "data"), storedKey, { size: meta.size, etag, contentType: meta.contentType });
      await rm(dir, { recursive: true, force: true });
      return info;
    } finally {
      state.closing = false;
      release(dir, state);
    }
  }

  async abort(storedKey: string, uploadId: string): Promise<void> {
    if (!UPLOAD_ID.test(uploadId)) return;
    const dir = path.join(this.root, uploadId);
    const meta = await readMeta(dir);
    if (!meta || meta.key !== storedKey) return;
    const state = stateOf(dir);
    state.closing = true;
    try {
      // Writers still running find their record's folder gone and answer NoSuchUpload.
      await rm(dir, { recursive: true, force: true });
    } finally {
      state.closing = false;
      release(dir, state);
    }
  }

  async list(storedPrefix: string): Promise<TMultipartUploadInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const uploads: TMultipartUploadInfo[] = [];
    for (const name of names.sort()) {
      if (!UPLOAD_ID.test(name)) continue;
      const meta = await readMeta(path.join(this.root, name));
      if (meta?.key.startsWith(storedPrefix)) uploads.push({ key: meta.key, uploadId: name, initiated: new Date(meta.createdAt) });
    }
    return uploads;
  }

  #dir(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new NoSuchUploadError(uploadId);
    return path.join(this.root, uploadId);
  }

  /** The upload's record; NoSuchUploadError when there is none, or it is of another key. */
  async #meta(dir: string, uploadId: string, storedKey: string): Promise<TUploadMeta> {
    const meta = await readMeta(dir);
    if (!meta || meta.key !== storedKey) throw new NoSuchUploadError(uploadId);
    return meta;
  }
}

/** S3's form of a multipart ETag: the MD5 of the parts' ETags, then `-N`. */
export function multipartEtag(parts: readonly { etag: string }[]): string {
  const hash = createHash("md5");
  for (const part of parts) {
    const text = part.etag.replace(/"/g, "");
    hash.update(/^(?:[0-9a-f]{2})+$/i.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "utf8"));
  }
  return `"${hash.digest("hex")}-${parts.length}"`;
}

async function readMeta(dir: string): Promise<TUploadMeta | null> {
  try {
    const meta = JSON.parse(await readFile(path.join(dir, "upload.json"), "utf8")) as TUploadMeta;
    return meta.v === 1 ? meta : null;
  } catch {
    return null;
  }
}

async function readParts(dir: string): Promise<TStoredPart[]> {
  let names: string[];
  try {
    names = await readdir(path.join(dir, "parts"));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const parts: TStoredPart[] = [];
  for (const name of names) {
    if (!/^[1-9][0-9]{0,4}$/.test(name)) continue; // temp files of records being written
    try {
      parts.push(JSON.parse(await readFile(path.join(dir, "parts", name), "utf8")) as TStoredPart);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

/** Writes a small file so that it is there, whole, after a crash: temp file, sync, rename, folder sync. */
async function writeDurably(file: string, text: string): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text, { flush: true });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(path.dirname(file));
}

/**
 * Writes `body` at `start` of `file`, refusing more than `limit` bytes, and returns how many were
 * written once they are durable. Direct I/O when the filesystem takes it, else buffered + fdatasync.
 */
async function writeAt(file: string, start: number, limit: number, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<number> {
  let fd: number;
  let direct = true;
  try {
    fd = await openFd(file, constants.O_WRONLY | DIRECT_WRITE_FLAGS);
  } catch (error) {
    if (!isDirectIoRefused(error)) throw error;
    direct = false;
    fd = await openFd(file, constants.O_WRONLY);
  }
  try {
    if (direct) {
      const appender = new DirectAppender(fd, pool, 2, start);
      try {
        for await (const chunk of body) {
          if (appender.size + chunk.length > limit) throw new PartSizeError(limit, appender.size + chunk.length);
          await appender.write(chunk);
        }
        // A short body is refused before its tail is written: finish() would cut the file there.
        if (appender.size !== limit) throw new PartSizeError(limit, appender.size);
        // A part ending inside a block is the object's last: finish pads it and cuts the file
        // back to the object's size.
        if (appender.size % DIRECT_ALIGN === 0) await appender.flush();
        else await appender.finish();
        return appender.size;
      } catch (error) {
        await appender.abandon();
        throw error;
      }
    }
    let size = 0;
    for await (const chunk of body) {
      if (size + chunk.length > limit) throw new PartSizeError(limit, size + chunk.length);
      await writevAll(fd, [chunk], start + size);
      size += chunk.length;
    }
    await fdatasyncFd(fd);
    return size;
  } finally {
    await closeFd(fd);
  }
}
