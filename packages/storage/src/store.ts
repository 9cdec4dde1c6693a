/**
 * One interface over object storage, with two backends chosen by configuration:
 * `s3` (AWS S3 or any S3-compatible service, through the AWS SDK v3) and `fs` (files under a
 * data folder, served by an upload/download endpoint that checks the same SigV4 signatures).
 */
import type { Readable } from "node:stream";

export type TStoreBackend = "s3" | "fs";

/** An HTML-form POST upload (S3 "POST Object" with a signed policy). */
export type TPresignedPost = {
  /** Where the device POSTs the multipart form. */
  url: string;
  /** Every form field, to be sent before the file part (named `file`). */
  fields: Record<string, string>;
  /** Seconds until storage refuses the form. */
  expiresIn: number;
};

export type TPresignPostInput = {
  key: string;
  /** Pinned exactly: the upload must send this Content-Type. */
  contentType: string;
  /** content-length-range upper bound in bytes (lower bound is 0). */
  maxBytes: number;
  expiresIn: number;
  /**
   * The file's SHA-256 (64 hex digits), when the device gave it: the form then carries
   * `x-amz-checksum-algorithm` and `x-amz-checksum-sha256`, pinned by the policy, and storage
   * refuses any other bytes (400 BadDigest).
   */
  sha256?: string;
};

export type TPresignGetInput = {
  key: string;
  expiresIn: number;
  /** Sets Content-Disposition: attachment (or inline) with this file name. */
  downloadName?: string;
  disposition?: "attachment" | "inline";
  /** Overrides the Content-Type of the response. */
  contentType?: string;
};

export type TObjectInfo = {
  key: string;
  size: number;
  /** Quoted as S3 returns it, e.g. `"9e107d9d372bb6826bd81d3542a419d6"`. */
  etag: string;
  contentType?: string;
  lastModified: Date;
  /**
   * The whole object's SHA-256 (lower-case hex) when storage knows it: the fs store for what it
   * wrote itself (POST, put, adopt), S3 for an object uploaded with a SHA-256 checksum (head
   * only). Absent: not known, not "different".
   */
  sha256?: string;
};

export type TListResult = { objects: TObjectInfo[]; nextToken?: string };

export type TOpenOptions = {
  /**
   * Inclusive byte range, like HTTP Range. `end` beyond the object is clamped; a `start` at or
   * after the end throws {@link RangeNotSatisfiableError}.
   */
  range?: { start: number; end?: number };
};

export type TListOptions = {
  /** At most this many objects (1..1000, default 1000). */
  limit?: number;
  /** `nextToken` of the previous page. */
  continuationToken?: string;
};

/** What `open` returns: the body (the range when one was asked for) and the whole object's info. */
export type TOpenedObject = {
  body: Readable;
  info: TObjectInfo;
  /** The bytes `body` holds, inclusive; present when a range was asked for. */
  range?: { start: number; end: number };
};

/** S3's multipart limits, which both backends keep (the fs store could do more; devices must not rely on it). */
export const MULTIPART_LIMITS = {
  minPartSize: 5 * 1024 * 1024,
  maxPartSize: 5 * 1024 * 1024 * 1024,
  maxParts: 10_000,
  maxObjectSize: 5 * 1024 * 1024 * 1024 * 1024,
} as const;

export type TCreateMultipartInput = {
  key: string;
  contentType: string;
  /** The whole object's size in bytes (the fs store lays the file out for it; S3 ignores it). */
  size: number;
  /** Every part but the last has exactly this size (a multiple of 1 MiB, within MULTIPART_LIMITS). */
  partSize: number;
};

export type TPresignPartInput = { key: string; uploadId: string; partNumber: number; expiresIn: number };

/** A part storage holds. */
export type TStoredPart = { partNumber: number; size: number; etag: string };

/** An unfinished multipart upload storage holds. */
export type TMultipartUploadInfo = { key: string; uploadId: string; initiated: Date };

/**
 * Keys are relative to the store's prefix everywhere in this interface: a store with prefix
 * `config/` stores `a.json` at `config/a.json` and returns it as `a.json`.
 */
export interface Store {
  readonly backend: TStoreBackend;
  /** Bucket (s3) or folder name (fs). */
  readonly bucket: string;
  /** Prepended to every key inside storage: `""` or a path ending in `/` (e.g. `config/`). */
  readonly prefix: string;

  presignPost(input: TPresignPostInput): Promise<TPresignedPost>;
  presignGet(input: TPresignGetInput): Promise<string>;
  /** Metadata of an object, or null when there is none. */
  head(key: string): Promise<TObjectInfo | null>;
  /** Objects whose key starts with `prefix`, in UTF-8 byte order of their keys, paged. */
  list(prefix: string, options?: TListOptions): Promise<TListResult>;
  /** The object's content, or null when there is none. */
  open(key: string, options?: TOpenOptions): Promise<TOpenedObject | null>;
  /** Stores the whole body (streams of unknown length too); replaces an existing object. */
  put(key: string, body: Readable | Uint8Array | string, options: { contentType: string }): Promise<TObjectInfo>;
  /** Removes the object; removing a missing object is not an error (as in S3). */
  delete(key: string): Promise<void>;
  /** Throws when storage cannot be reached (used by health checks). */
  ping(): Promise<void>;

  /** Starts a multipart upload of `key` (S3 CreateMultipartUpload). */
  createMultipart(input: TCreateMultipartInput): Promise<{ uploadId: string }>;
  /** A URL the device PUTs one part's bytes to (S3 UploadPart, presigned). */
  presignPart(input: TPresignPartInput): Promise<string>;
  /** Every part held, by part number; {@link NoSuchUploadError} when the upload is unknown. */
  listParts(key: string, uploadId: string): Promise<TStoredPart[]>;
  /**
   * Joins the parts (1..N, each with the ETag listParts gave) into the object and ends the upload.
   * {@link NoSuchUploadError} when the upload is unknown (completed or aborted before);
   * {@link InvalidPartError} when a part is missing or another one is held.
   */
  completeMultipart(key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<TObjectInfo>;
  /** Drops the upload and every part it holds; an unknown upload is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Unfinished uploads whose key starts with `prefix` (to find uploads nobody recorded). */
  listMultipartUploads(prefix: string): Promise<TMultipartUploadInfo[]>;
}

/** The multipart upload does not exist (never, or no longer: completed or aborted). */
export class NoSuchUploadError extends Error {
  constructor(uploadId: string) {
    super(`no multipart upload ${JSON.stringify(uploadId)}`);
    this.name = "NoSuchUploadError";
  }
}

/** A completion named a part storage does not hold, or with another ETag. */
export class InvalidPartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPartError";
  }
}

/** The multipart inputs a backend must refuse whatever it is (S3's own limits). */
export function assertCreateMultipartInput(input: TCreateMultipartInput): void {
  const { size, partSize } = input;
  if (!Number.isSafeInteger(size) || size < 1 || size > MULTIPART_LIMITS.maxObjectSize)
    throw new Error(`size must be from 1 byte to ${MULTIPART_LIMITS.maxObjectSize} bytes`);
  if (
    !Number.isSafeInteger(partSize) ||
    partSize < MULTIPART_LIMITS.minPartSize ||
    partSize > MULTIPART_LIMITS.maxPartSize ||
    partSize % (1024 * 1024) !== 0
  )
    throw new Error("partSize must be a whole number of MiB from 5 MiB to 5 GiB");
  if (Math.ceil(size / partSize) > MULTIPART_LIMITS.maxParts)
    throw new Error(`size / partSize must be at most ${MULTIPART_LIMITS.maxParts} parts`);
}

export function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MULTIPART_LIMITS.maxParts)
    throw new Error(`partNumber must be an integer from 1 to ${MULTIPART_LIMITS.maxParts}`);
}

/** Storage could not be reached or failed: the caller should answer 503 and let the device retry. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}

/**
 * The key cannot be used with this store: empty, too long, a `.`/`..`/empty segment, a leading
 * `/`, a backslash or NUL (refused by every backend as defence in depth), or `${filename}` in a
 * form key (S3 would substitute the uploaded file's name, so the key would not be pinned).
 */
export class InvalidObjectKeyError extends Error {
  readonly key: string;

  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = "InvalidObjectKeyError";
    this.key = key;
  }
}

/**
 * The filesystem store cannot hold this key next to an existing one: a file and a folder cannot
 * share a path (`logs` and `logs/system.log`), which S3 allows. Callers answer 409.
 */
export class ObjectKeyConflictError extends Error {
  readonly key: string;

  constructor(key: string, reason: string) {
    super(`object key ${JSON.stringify(key)} conflicts with an existing object: ${reason}`);
    this.name = "ObjectKeyConflictError";
    this.key = key;
  }
}

/**
 * The filesystem store cannot take this file in place (FsStore.adopt): it is on another
 * filesystem, or its size is not the one given. Nothing changed; the caller copies it instead.
 */
export class CannotAdoptFileError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`cannot move the file into the store: ${reason}`, options);
    this.name = "CannotAdoptFileError";
  }
}

/** `open` with a range that starts at or after the end of the object (HTTP 416). */
export class RangeNotSatisfiableError extends Error {
  /** The object's size, for `Content-Range: bytes *\/size`. */
  readonly size: number;

  constructor(size: number) {
    super(`the requested range starts beyond the object's ${size} bytes`);
    this.name = "RangeNotSatisfiableError";
    this.size = size;
  }
}
