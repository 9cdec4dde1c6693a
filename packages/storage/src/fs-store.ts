/**
 * The filesystem backend: objects under `rootDir/<bucket>/`, uploads and downloads through the
 * platform's own endpoint (fs-upload-endpoint.ts) with the same SigV4 forms and URLs as S3.
 */
import type { Readable } from "node:stream";

import { FsBucket, type TAdoptedFile } from "./fs-bucket";
import { decodeContinuationToken, encodeContinuationToken, listLimit } from "./list-paging";
import { assertNoFilenameVariable, listPrefixProblem, normalizeStorePrefix, storedObjectKey } from "./object-key";
import { createPostForm } from "./post-policy";
import type { TSigningCredentials } from "./post-policy";
import { assertPresignPostInput, responseOverrides } from "./presign-input";
import { presignUrl } from "./presigned-url";
import type {
  Store,
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
