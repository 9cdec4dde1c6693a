/**
 * The S3 backend (AWS S3 or an S3-compatible service) on the AWS SDK v3.
 *
 * Forms come from the SDK's own createPresignedPost, so they are exactly what S3 expects; the
 * field names are then normalised to the protocol's (lower-case signature fields, `policy`)
 * and the SDK's `bucket` field is dropped: S3 takes the bucket from the URL and checks the
 * policy's `{"bucket": ...}` condition against it, so the field adds nothing, and without it a
 * form has the same fields on both backends (docs/protocol.md#upload-forms).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable } from "node:stream";

import { encodeContinuationToken, decodeContinuationToken, listLimit } from "./list-paging";
import { assertNoFilenameVariable, listPrefixProblem, normalizeStorePrefix, storedObjectKey } from "./object-key";
import { checksumFields, sha256Base64ToHex } from "./post-checksum";
import { assertPresignPostInput, responseOverrides } from "./presign-input";
import { createS3Clients, DEFAULT_S3_TIMEOUTS } from "./s3-client";
import type { TS3Clients, TS3ConnectionOptions, TS3Timeouts } from "./s3-client";
import { httpStatusOf, isNotFound, toStorageError } from "./s3-errors";
import { assertCreateMultipartInput, assertPartNumber, InvalidPartError, NoSuchUploadError, RangeNotSatisfiableError } from "./store";
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

/** A validated s3 store config (see config.ts for the schema and its messages). */
export type TS3StoreOptions = TS3ConnectionOptions & { bucket: string; prefix?: string };

export type TS3StoreExtras = {
  timeouts?: Partial<TS3Timeouts>;
  /** Called with each SDK client the store creates (e.g. to add middleware in tests). */
  configureClient?: (client: S3Client) => void;
};

/** Part size of streamed uploads; two parts in flight bound the memory to ~16 MiB. */
const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;

/** The form fields in the order the protocol shows them (docs/protocol.md#upload-forms). */
const FORM_FIELD_ORDER = [
  "key",
  "Content-Type",
  "policy",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-checksum-algorithm",
  "x-amz-checksum-sha256",
  "x-amz-signature",
];

export class S3Store implements Store {
  readonly backend = "s3" as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly clients: TS3Clients;

  constructor(options: TS3StoreOptions, extras: TS3StoreExtras = {}) {
    this.bucket = options.bucket;
    this.prefix = normalizeStorePrefix(options.prefix);
    this.clients = createS3Clients(options, { ...DEFAULT_S3_TIMEOUTS, ...extras.timeouts });
    if (extras.configureClient) {
      for (const client of Object.values(this.clients)) extras.configureClient(client);
    }
  }

  async presignPost(input: TPresignPostInput): Promise<TPresignedPost> {
    assertPresignPostInput(input);
    const key = this.#storedKey(input.key);
    assertNoFilenameVariable(key);
    // The SDK pins every field it is given with an exact condition: the checksum fields too, so
    // S3 refuses other bytes (400 BadDigest) and records the digest (HeadObject's ChecksumSHA256).
    const checksum = input.sha256 === undefined ? {} : checksumFields(input.sha256);
    try {
      const { url, fields } = await createPresignedPost(this.clients.presign, {
        Bucket: this.bucket,
        Key: key,
        Conditions: [["content-length-range", 0, input.maxBytes], { "Content-Type": input.contentType }],
        Fields: { "Content-Type": input.contentType, ...checksum },
        Expires: input.expiresIn,
      });
      return { url, fields: normalizePostFields(fields), expiresIn: input.expiresIn };
    } catch (error) {
      throw toStorageError(error, "presign POST");
    }
  }

  async presignGet(input: TPresignGetInput): Promise<string> {
    const overrides = responseOverrides(input);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.#storedKey(input.key),
      ...(overrides.contentDisposition !== undefined ? { ResponseContentDisposition: overrides.contentDisposition } : {}),
      ...(overrides.contentType !== undefined ? { ResponseContentType: overrides.contentType } : {}),
    });
    try {
      return await getSignedUrl(this.clients.presign, command, { expiresIn: input.expiresIn });
    } catch (error) {
      throw toStorageError(error, "presign GET");
    }
  }

  async head(key: string): Promise<TObjectInfo | null> {
    try {
      const out = await this.clients.control.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.#storedKey(key), ChecksumMode: "ENABLED" }),
      );
      // A multipart object's checksum is of its parts' checksums (COMPOSITE, `…-N`), not of its bytes.
      const sha256 = out.ChecksumSHA256 !== undefined && out.ChecksumType !== "COMPOSITE" ? sha256Base64ToHex(out.ChecksumSHA256) : null;
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? "",
        ...(out.ContentType !== undefined ? { contentType: out.ContentType } : {}),
        lastModified: out.LastModified ?? new Date(0),
        ...(sha256 !== null ? { sha256 } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw toStorageError(error, "HeadObject");
    }
  }

  async list(prefix: string, options: TListOptions = {}): Promise<TListResult> {
    const problem = listPrefixProblem(prefix);
    if (problem) throw new Error(problem);
    const limit = listLimit(options.limit);
    const token = options.continuationToken === undefined ? undefined : decodeContinuationToken(options.continuationToken);
    try {
      const out = await this.clients.control.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          MaxKeys: limit,
          ...(token !== undefined ? { ContinuationToken: token } : {}),
        }),
      );
      const objects: TObjectInfo[] = (out.Contents ?? []).flatMap((item) =>
        item.Key === undefined
          ? []
          : [
              {
                key: item.Key.slice(this.prefix.length),
                size: item.Size ?? 0,
                etag: item.ETag ?? "",
                lastModified: item.LastModified ?? new Date(0),
              },
            ],
      );
      return out.IsTruncated && out.NextContinuationToken
        ? { objects, nextToken: encodeContinuationToken(out.NextContinuationToken) }
        : { objects };
    } catch (error) {
      throw toStorageError(error, "ListObjectsV2");
    }
  }

  async open(key: string, options: TOpenOptions = {}): Promise<TOpenedObject | null> {
    const range = options.range;
    if (range && (!Number.isSafeInteger(range.start) || range.start < 0 || (range.end !== undefined && range.end < range.start))) {
      throw new Error("open: range must have integers 0 <= start <= end");
    }
    try {
      const out = await this.clients.control.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.#storedKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end ?? ""}` } : {}),
        }),
      );
      if (!(out.Body instanceof Readable)) throw new Error("S3 GetObject returned no readable body");
      const length = out.ContentLength ?? 0;
      // "bytes 0-9/123": the range served and the whole object's size.
      const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? "");
      const size = contentRange ? Number(contentRange[3]) : length;
      const info: TObjectInfo = {
        key,
        size,
        etag: out.ETag ?? "",
        ...(out.ContentType !== undefined ? { contentType: out.ContentType } : {}),
        lastModified: out.LastModified ?? new Date(0),
      };
      if (!range) return { body: out.Body, info };
      const served = contentRange ? { start: Number(contentRange[1]), end: Number(contentRange[2]) } : { start: 0, end: length - 1 };
      return { body: out.Body, info, range: served };
    } catch (error) {
      if (isNotFound(error)) return null;
      if (httpStatusOf(error) === 416) {
        const info = await this.head(key);
        throw new RangeNotSatisfiableError(info?.size ?? 0);
      }
      throw toStorageError(error, "GetObject");
    }
  }

  /**
   * Buffers and strings are sent with one PutObject (their length is known). Streams of unknown
   * length go through lib-storage's Upload: S3 refuses a PutObject without Content-Length, and
   * Upload sends one PutObject for a body under one part, or a multipart upload (needed above
   * 5 GiB anyway) with at most two 8 MiB parts in memory. The result comes from a HeadObject,
   * so size and last-modified are S3's own.
   */
  async put(key: string, body: Readable | Uint8Array | string, options: { contentType: string }): Promise<TObjectInfo> {
    const storedKey = this.#storedKey(key);
    try {
      if (body instanceof Readable) {
        const upload = new Upload({
          client: this.clients.transfer,
          params: { Bucket: this.bucket, Key: storedKey, Body: body, ContentType: options.contentType },
          partSize: UPLOAD_PART_SIZE,
          queueSize: UPLOAD_QUEUE_SIZE,
          leavePartsOnError: false,
        });
        await upload.done();
      } else {
        const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
        await this.clients.control.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: storedKey,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ContentType: options.contentType,
          }),
        );
      }
    } catch (error) {
      throw toStorageError(error, "PutObject");
    }
    const info = await this.head(key);
    if (!info) throw new Error(`S3 does not show the object ${JSON.stringify(storedKey)} that was just stored`);
    return info;
  }

  async delete(key: string): Promise<void> {
    try {
      await this.clients.control.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#storedKey(key) }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw toStorageError(error, "DeleteObject");
    }
  }

  async ping(): Promise<void> {
    try {
      await this.clients.control.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (isNotFound(error)) throw new Error(`S3 bucket ${JSON.stringify(this.bucket)} does not exist`, { cause: error });
      if (httpStatusOf(error) === 403) {
        throw new Error(`S3 refused access to bucket ${JSON.stringify(this.bucket)}: check the credentials`, { cause: error });
      }
      throw toStorageError(error, "HeadBucket");
    }
  }

  async createMultipart(input: TCreateMultipartInput): Promise<{ uploadId: string }> {
    assertCreateMultipartInput(input);
    try {
      const out = await this.clients.control.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.#storedKey(input.key), ContentType: input.contentType }),
      );
      if (!out.UploadId) throw new Error("S3 CreateMultipartUpload returned no UploadId");
      return { uploadId: out.UploadId };
    } catch (error) {
      throw toStorageError(error, "CreateMultipartUpload");
    }
  }

  async presignPart(input: TPresignPartInput): Promise<string> {
    assertPartNumber(input.partNumber);
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: this.#storedKey(input.key),
      UploadId: input.uploadId,
      PartNumber: input.partNumber,
    });
    try {
      return await getSignedUrl(this.clients.presign, command, { expiresIn: input.expiresIn });
    } catch (error) {
      throw toStorageError(error, "presign UploadPart");
    }
  }

  async listParts(key: string, uploadId: string): Promise<TStoredPart[]> {
    const parts: TStoredPart[] = [];
    let marker: string | undefined;
    try {
      // S3 answers at most 1000 parts a page.
      for (;;) {
        const out = await this.clients.control.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: this.#storedKey(key),
            UploadId: uploadId,
            ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
          }),
        );
        for (const part of out.Parts ?? []) {
          if (part.PartNumber !== undefined) parts.push({ partNumber: part.PartNumber, size: part.Size ?? 0, etag: part.ETag ?? "" });
        }
        if (!out.IsTruncated || out.NextPartNumberMarker === undefined) return parts;
        marker = out.NextPartNumberMarker;
      }
    } catch (error) {
      if (isNoSuchUpload(error)) throw new NoSuchUploadError(uploadId);
      throw toStorageError(error, "ListParts");
    }
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<TObjectInfo> {
    try {
      await this.clients.control.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.#storedKey(key),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
    } catch (error) {
      if (isNoSuchUpload(error)) throw new NoSuchUploadError(uploadId);
      const name = (error as { name?: string }).name;
      if (name === "InvalidPart" || name === "InvalidPartOrder" || name === "EntityTooSmall")
        throw new InvalidPartError(`S3 refused the parts: ${name}`);
      throw toStorageError(error, "CompleteMultipartUpload");
    }
    const info = await this.head(key);
    if (!info) throw new Error(`S3 does not show the object ${JSON.stringify(this.#storedKey(key))} it just completed`);
    return info;
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.clients.control.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.#storedKey(key), UploadId: uploadId }),
      );
    } catch (error) {
      if (isNoSuchUpload(error)) return;
      throw toStorageError(error, "AbortMultipartUpload");
    }
  }

  async listMultipartUploads(prefix: string): Promise<TMultipartUploadInfo[]> {
    const uploads: TMultipartUploadInfo[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const out = await this.clients.control.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
        for (const upload of out.Uploads ?? []) {
          if (upload.Key === undefined || upload.UploadId === undefined) continue;
          uploads.push({
            key: upload.Key.slice(this.prefix.length),
            uploadId: upload.UploadId,
            initiated: upload.Initiated ?? new Date(0),
          });
        }
        if (!out.IsTruncated) return uploads;
        keyMarker = out.NextKeyMarker;
        uploadIdMarker = out.NextUploadIdMarker;
      }
    } catch (error) {
      throw toStorageError(error, "ListMultipartUploads");
    }
  }

  /** Closes the clients' sockets (keep-alive agents). */
  destroy(): void {
    for (const client of Object.values(this.clients)) client.destroy();
  }

  #storedKey(key: string): string {
    return storedObjectKey(this.prefix, key);
  }
}

function isNoSuchUpload(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "NoSuchUpload" || httpStatusOf(error) === 404;
}

/**
 * The SDK's form fields with the protocol's names: `Policy` → `policy`, `X-Amz-*` → `x-amz-*`,
 * `key` and `Content-Type` as they are, `bucket` dropped. S3 matches field names
 * case-insensitively, so the signature stays valid.
 */
export function normalizePostFields(sdkFields: Record<string, string>): Record<string, string> {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(sdkFields)) {
    const lower = name.toLowerCase();
    if (lower === "bucket") continue;
    byName.set(lower === "content-type" ? "Content-Type" : lower, value);
  }
  const fields: Record<string, string> = {};
  for (const name of FORM_FIELD_ORDER) {
    const value = byName.get(name);
    if (value !== undefined) fields[name] = value;
    byName.delete(name);
  }
  // Anything a future SDK adds stays in the form (before the signature would not matter).
  for (const [name, value] of byName) fields[name] = value;
  return fields;
}
