/**
 * The filesystem backend: objects under `rootDir/<bucket>/`, uploads and downloads through the
 * platform's own endpoint (fs-upload-endpoint.ts) with the same SigV4 forms and URLs as S3.
 */
import type { Readable } from "node:stream";

import { FsBucket, type TAdoptedFile } from "./fs-bucket";
import { FsMultipart } from "./fs-multipart";
import { decodeContinuationToken, encodeContinuationToken, listLimit } from "./list-paging";
import { assertNoFilenameVariable, listPrefixProblem, normalizeStorePrefix, storedObjectKey } from "./object-key";
import { createPostForm } from "./post-policy";
import type { TSigningCredentials } from "./post-policy";
import { assertPresignPostInput, responseOverrides } from "./presign-input";
import { presignUrl } from "./presigned-url";
import { assertPartNumber } from "./store";
import type {
  Store,
  TCreateMultipartInput,
  TMultipartUploadInfo,
  TPresignPartInput,
  TStoredPart,
  TListOptions,
  TListResult,
  TObjectInfo,
  TOpenedObject,
  TOpenOptions,
  TPresignedPost,
  TPresignGetInput,
  TPresignPostInput,
} from "./store";

/** Where the upload endpoint is mounted on `publicUrl` (createFsEndpoint's default basePath). */
export const FS_ENDPOINT_BASE_PATH = "/fs";

/** A validated fs store config (see config.ts for the schema and its messages). */
export type TFsStoreOptions = {
  bucket: string;
  /** Absolute folder that holds one folder per bucket. */
  rootDir: string;
  /** Origin devices reach the endpoint at, e.g. `http://192.168.1.5:9000` (no path). */
  publicUrl: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  prefix?: string;
};

export class FsStore implements Store {
  readonly backend = "fs" as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly rootDir: string;
  /** Origin without a trailing slash. */
  readonly publicUrl: string;
  readonly region: string;
  readonly accessKeyId: string;
  /** Full-key operations on the bucket folder (shared with the endpoint). */
  readonly files: FsBucket;
  /** Multipart uploads in the bucket folder (shared with the endpoint, which writes the parts). */
  readonly multipart: FsMultipart;
  readonly #credentials: TSigningCredentials;

  constructor(options: TFsStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizeStorePrefix(options.prefix);
    this.rootDir = options.rootDir;
    this.publicUrl = new URL(options.publicUrl).origin;
    this.region = options.region;
    this.accessKeyId = options.accessKeyId;
    this.#credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
    this.files = new FsBucket(options.rootDir, options.bucket);
    this.multipart = new FsMultipart(this.files);
  }

  /** The secret, for the endpoint that verifies this store's signatures. */
  secretAccessKey(): string {
    return this.#credentials.secretAccessKey;
  }

  /** The URL forms are posted to. */
  get uploadUrl(): string {
    return `${this.publicUrl}${FS_ENDPOINT_BASE_PATH}/${this.bucket}`;
  }

  async presignPost(input: TPresignPostInput): Promise<TPresignedPost> {
    assertPresignPostInput(input);
    const key = this.#storedKey(input.key);
    assertNoFilenameVariable(key);
    const form = createPostForm({
      bucket: this.bucket,
      key,
      contentType: input.contentType,
      maxBytes: input.maxBytes,
      expiresIn: input.expiresIn,
      region: this.region,
      credentials: this.#credentials,
      ...(input.sha256 !== undefined ? { sha256: input.sha256 } : {}),
    });
    return { url: this.uploadUrl, fields: form.fields, expiresIn: input.expiresIn };
  }

  async presignGet(input: TPresignGetInput): Promise<string> {
    const overrides = responseOverrides(input);
    const query: Record<string, string> = {};
    if (overrides.contentDisposition !== undefined) query["response-content-disposition"] = overrides.contentDisposition;
    if (overrides.contentType !== undefined) query["response-content-type"] = overrides.contentType;
    return presignUrl({
      origin: this.publicUrl,
      path: `${FS_ENDPOINT_BASE_PATH}/${this.bucket}/${this.#storedKey(input.key)}`,
      region: this.region,
      credentials: this.#credentials,
      expiresIn: input.expiresIn,
      query,
    });
  }

  async head(key: string): Promise<TObjectInfo | null> {
    const info = await this.files.head(this.#storedKey(key));
    return info && this.#relative(info);
  }

  async list(prefix: string, options: TListOptions = {}): Promise<TListResult> {
    const problem = listPrefixProblem(prefix);
    if (problem) throw new Error(problem);
    const limit = listLimit(options.limit);
    const startAfter = options.continuationToken === undefined ? undefined : decodeContinuationToken(options.continuationToken);
    const page = await this.files.list(this.prefix + prefix, limit, startAfter === undefined ? undefined : this.prefix + startAfter);
    const objects = page.objects.map((info) => this.#relative(info));
    const last = objects.at(-1);
    return page.more && last ? { objects, nextToken: encodeContinuationToken(last.key) } : { objects };
  }

  async open(key: string, options: TOpenOptions = {}): Promise<TOpenedObject | null> {
    const opened = await this.files.open(this.#storedKey(key), options);
    return opened && { ...opened, info: this.#relative(opened.info) };
  }

  async put(key: string, body: Readable | Uint8Array | string, options: { contentType: string }): Promise<TObjectInfo> {
    return this.#relative(await this.files.put(this.#storedKey(key), body, options.contentType));
  }

  /**
   * Makes a complete file on this store's filesystem the object `key` by moving it, not copying
   * it (FsBucket.adopt): for files the worker already wrote durably and hashed (MQTT transfers
   * staged in files). Its ETag is the quoted SHA-256 the caller computed (see TAdoptedFile).
   * CannotAdoptFileError when that is not possible; the caller then uses put.
   */
  async adopt(key: string, sourcePath: string, file: TAdoptedFile): Promise<TObjectInfo> {
    return this.#relative(await this.files.adopt(sourcePath, this.#storedKey(key), file));
  }

  async delete(key: string): Promise<void> {
    await this.files.delete(this.#storedKey(key));
  }

  async ping(): Promise<void> {
    await this.files.checkWritable();
  }

  createMultipart(input: TCreateMultipartInput): Promise<{ uploadId: string }> {
    return this.multipart.create(this.#storedKey(input.key), input);
  }

  /** A URL signed for PUT, like S3's presigned UploadPart: the endpoint checks it the same way. */
  async presignPart(input: TPresignPartInput): Promise<string> {
    assertPartNumber(input.partNumber);
    return presignUrl({
      method: "PUT",
      origin: this.publicUrl,
      path: `${FS_ENDPOINT_BASE_PATH}/${this.bucket}/${this.#storedKey(input.key)}`,
      region: this.region,
      credentials: this.#credentials,
      expiresIn: input.expiresIn,
      query: { partNumber: String(input.partNumber), uploadId: input.uploadId },
    });
  }

  listParts(key: string, uploadId: string): Promise<TStoredPart[]> {
    return this.multipart.listParts(this.#storedKey(key), uploadId);
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<TObjectInfo> {
    return this.#relative(await this.multipart.complete(this.#storedKey(key), uploadId, parts));
  }

  abortMultipart(key: string, uploadId: string): Promise<void> {
    return this.multipart.abort(this.#storedKey(key), uploadId);
  }

  async listMultipartUploads(prefix: string): Promise<TMultipartUploadInfo[]> {
    const uploads = await this.multipart.list(this.prefix + prefix);
    return uploads.map((upload) => ({ ...upload, key: upload.key.slice(this.prefix.length) }));
  }

  /** Removes upload temp files older than `maxAgeMs` (left by a crash). */
  removeStaleTempFiles(maxAgeMs = 60 * 60 * 1000): Promise<number> {
    return this.files.removeStaleTempFiles(maxAgeMs);
  }

  #storedKey(key: string): string {
    return storedObjectKey(this.prefix, key);
  }

  #relative(info: TObjectInfo): TObjectInfo {
    return { ...info, key: info.key.slice(this.prefix.length) };
  }
}
