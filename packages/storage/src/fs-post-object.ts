/**
 * `POST <basePath>/<bucket>`: S3 "POST Object" into a filesystem store.
 *
 * The multipart body is parsed as it arrives. Every field precedes the file, so the policy is
 * verified when the file part starts, before any of its bytes are accepted. The file streams
 * into a temp file in the bucket's folder (MD5 and SHA-256 computed on the way) and the upload
 * is refused the moment it passes the policy's content-length-range. Only when the whole form
 * has been read, and its SHA-256 is the one a checksum field gave (post-checksum.ts), is the
 * file renamed into place and its metadata (with the SHA-256) written. Any failure (bad form, policy,
 * size, a client that goes away) removes the temp file: nothing partial is ever left behind.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { rm } from "node:fs/promises";
import { Readable } from "node:stream";

import busboy from "busboy";
import type { Busboy } from "busboy";

import { DEFAULT_CONTENT_TYPE } from "@fleetdrop/shared/names";

import type { FsEndpointStores } from "./fs-endpoint-stores";
import { AdmissionUnavailableError, checkAdmission } from "./fs-upload-admission";
import type { TAdmitUpload } from "./fs-upload-admission";
import type { FsStore } from "./fs-store";
import { SizeLimitExceededError, writeTempFile } from "./fs-temp-file";
import type { TTempFileResult } from "./fs-temp-file";
import { drainThenClose, sendS3Error } from "./http-reply";
import { objectKeyProblem } from "./object-key";
import { badDigest, CHECKSUM_SHA256_FIELD, expectedPostSha256, sha256HexToBase64 } from "./post-checksum";
import { verifyPostForm } from "./post-policy";
import type { TVerifiedPostForm } from "./post-policy";
import { MAX_POST_UPLOAD_BYTES } from "./presign-input";
import { accessDenied, escapeXml, invalidArgument, malformedPost, S3ProtocolError } from "./s3-protocol-error";
import { uriEncode } from "./sigv4/uri-encode";
import { ObjectKeyConflictError } from "./store";
import type { TObjectInfo } from "./store";

/** S3's limit on the form fields before the file: 20 KB. */
export const MAX_PRE_DATA_BYTES = 20 * 1024;

export type TObjectStoredEvent = {
  /** The store the object belongs to (the one whose prefix its key is under). */
  store: FsStore;
  bucket: string;
  /** Relative to the store's prefix, as the Store API uses keys. */
  key: string;
  size: number;
  /** Quoted MD5, as S3 returns it. */
  etag: string;
  contentType: string;
  /** SHA-256 hex of the stored bytes (checked against the form's checksum when it gave one). */
  sha256: string;
};

export type TEndpointLogger = {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
};

export type TPostObjectContext = {
  req: IncomingMessage;
  res: ServerResponse;
  bucket: string;
  /** Where the endpoint is mounted, e.g. `/fs` (for the Location header). */
  basePath: string;
  stores: FsEndpointStores;
  requestId: string;
  logger: TEndpointLogger;
  onObjectStored?: (event: TObjectStoredEvent) => Promise<void> | void;
  /** Whether the application still wants this upload (fs-upload-admission.ts). */
  admitUpload?: TAdmitUpload;
  /** How long the reply waits for onObjectStored before answering anyway. */
  onObjectStoredTimeoutMs: number;
  /** A request whose socket is idle this long is abandoned. */
  idleTimeoutMs: number;
  /** Called once the request is completely finished (success or failure). */
  onDone: () => void;
};

type TUpload = {
  form: TVerifiedPostForm;
  /** The SHA-256 (hex) the form's checksum fields bind the file to. */
  expectedSha256: string | null;
  store: FsStore;
  tempPath?: string;
  written: Promise<TTempFileResult>;
  /** The first admission check; a refusal has already failed the upload. */
  admitted: Promise<boolean>;
};

export type TPostObjectControl = {
  /** Ends the upload now: answers `error` (unless an answer is under way) and closes the connection. */
  end(error: S3ProtocolError): void;
};

export function handlePostObject(ctx: TPostObjectContext): TPostObjectControl {
  const { req, res, requestId, logger } = ctx;
  let settled = false;
  let doneCalled = false;
  const done = (): void => {
    if (doneCalled) return;
    doneCalled = true;
    ctx.onDone();
  };
  res.once("close", done);

  const control: TPostObjectControl = {
    end(error) {
      fail(error);
      // The client is too slow or idle: close as soon as it has been told why.
      if (res.writableFinished || res.destroyed) req.socket?.destroy();
      else res.once("finish", () => req.socket?.destroy());
    },
  };

  if (!/^multipart\/form-data\b/i.test(req.headers["content-type"] ?? "")) {
    settled = true;
    reject(
      new S3ProtocolError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
        Condition: "Bucket POST must be of the enclosure-type multipart/form-data",
      }),
    );
    return control;
  }

  let parser: Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // latin1 keeps field bytes intact: a `file` part without a filename is a field to busboy,
      // and its content must not be re-encoded. Other fields are decoded as UTF-8 below.
      defCharset: "latin1",
      defParamCharset: "utf8",
      preservePath: true,
      highWaterMark: 512 * 1024,
      fileHwm: 512 * 1024,
      limits: {
        fieldNameSize: 256,
        fieldSize: MAX_PRE_DATA_BYTES,
        fields: 64,
        files: 1,
        parts: 66,
        headerPairs: 32,
      },
    });
  } catch {
    settled = true;
    reject(malformedPost());
    return control;
  }

  const fields: Array<[string, string]> = [];
  let preDataBytes = 0;
  let fileSeen = false;
  let upload: TUpload | undefined;
  const abort = new AbortController();

  req.setTimeout(ctx.idleTimeoutMs, () => control.end(requestTimeout()));
  // A client that goes away mid-upload: busboy would wait forever for the rest of the form.
  req.once("close", () => {
    if (!req.complete) fail(null);
  });
  req.once("error", () => fail(null));

  parser.on("field", (name, value, info) => {
    if (settled) return;
    if (fileSeen) {
      fail(invalidArgument(`Fields after the file are not accepted: send every field before the part named file (found '${name}').`, name));
      return;
    }
    preDataBytes += Buffer.byteLength(name) + value.length;
    if (info.nameTruncated || info.valueTruncated || preDataBytes > MAX_PRE_DATA_BYTES) {
      fail(preDataTooLarge());
      return;
    }
    if (name.toLowerCase() === "file") {
      // A file part sent without a filename parameter: its (small) content arrived as a field.
      startFile(Readable.from([Buffer.from(value, "latin1")]));
      return;
    }
    fields.push([name, Buffer.from(value, "latin1").toString("utf8")]);
  });

  parser.on("file", (name, stream) => {
    if (settled || name.toLowerCase() !== "file") {
      stream.resume();
      if (!settled) fail(invalidArgument(`Only the part named file may carry a file (found a file in part '${name}').`, name));
      return;
    }
    startFile(stream);
  });

  parser.on("filesLimit", () => fail(oneFileOnly("2 or more")));
  parser.on("fieldsLimit", () => fail(preDataTooLarge()));
  parser.on("partsLimit", () => fail(preDataTooLarge()));
  parser.on("error", () => fail(malformedPost()));
  parser.on("close", () => {
    void finish();
  });

  req.pipe(parser);
  return control;

  function startFile(stream: Readable): void {
    if (fileSeen) {
      stream.resume();
      fail(oneFileOnly("2 or more"));
      return;
    }
    fileSeen = true;
    let form: TVerifiedPostForm;
    let expectedSha256: string | null;
    try {
      form = verifyPostForm({ fields, bucket: ctx.bucket, lookupCredentials: ctx.stores.lookup(ctx.bucket) });
      expectedSha256 = expectedPostSha256(form.fields);
    } catch (error) {
      stream.resume();
      fail(error);
      return;
    }
    const problem = objectKeyProblem(form.key) ?? (form.key.includes("${filename}") ? "${filename} is not supported" : null);
    if (problem) {
      stream.resume();
      fail(invalidArgument(`Invalid key: ${problem}`, "key", form.key));
      return;
    }
    const store = ctx.stores.storeFor(ctx.bucket, form.accessKeyId, form.key);
    if (!store) {
      stream.resume();
      fail(accessDenied("Access Denied: the key is outside every store this access key may write"));
      return;
    }
    const maxBytes = Math.min(form.contentLength.max, MAX_POST_UPLOAD_BYTES);
    const current: TUpload = {
      form,
      expectedSha256,
      store,
      written: Promise.resolve({ size: 0, md5Hex: "", sha256Hex: "", io: "buffered" }),
      admitted: Promise.resolve(true),
    };
    const admit = ctx.admitUpload;
    if (admit) {
      current.admitted = (async () => checkAdmission(admit, store, ctx.bucket, form.key, await store.files.head(form.key)))().then(
        () => true,
        (error: unknown) => {
          fail(error);
          return false;
        },
      );
    }
    current.written = (async () => {
      const tempPath = await store.files.layout.newTempPath();
      current.tempPath = tempPath;
      return writeTempFile(tempPath, stream, { maxBytes, signal: abort.signal });
    })();
    upload = current;
    current.written.catch((error: unknown) => {
      if (error instanceof SizeLimitExceededError) {
        fail(
          new S3ProtocolError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
            MaxSizeAllowed: maxBytes,
          }),
        );
      } else {
        fail(error);
      }
    });
  }

  async function finish(): Promise<void> {
    if (settled) return;
    if (!fileSeen || !upload) {
      fail(oneFileOnly("0"));
      return;
    }
    const current = upload;
    let written: TTempFileResult;
    try {
      written = await current.written;
    } catch {
      return; // already reported by the catch in startFile
    }
    if (!(await current.admitted) || settled) return;
    const { form, store } = current;
    if (written.size < form.contentLength.min) {
      fail(
        new S3ProtocolError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
          ProposedSize: written.size,
          MinSizeAllowed: form.contentLength.min,
        }),
      );
      return;
    }
    if (current.expectedSha256 !== null && written.sha256Hex !== current.expectedSha256) {
      fail(badDigest()); // the temp file is removed: nothing of these bytes is kept
      return;
    }
    const contentType = form.contentType ?? DEFAULT_CONTENT_TYPE;
    let etag: string;
    try {
      const admit = ctx.admitUpload;
      const precondition = admit && ((existing: TObjectInfo | null) => checkAdmission(admit, store, ctx.bucket, form.key, existing));
      const info = await store.files.commit(current.tempPath as string, form.key, { ...written, contentType }, precondition);
      etag = info.etag;
    } catch (error) {
      fail(error instanceof ObjectKeyConflictError ? new S3ProtocolError(409, "ObjectKeyConflict", error.message) : error);
      return;
    }
    settled = true;
    req.setTimeout(0);
    const key = form.key.slice(store.prefix.length);
    await notifyStored({ store, bucket: ctx.bucket, key, size: written.size, etag, contentType, sha256: written.sha256Hex });
    reply(form, store, etag, current.expectedSha256);
  }

  async function notifyStored(event: TObjectStoredEvent): Promise<void> {
    if (!ctx.onObjectStored) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() => ctx.onObjectStored?.(event)),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            logger.warn(
              { requestId, bucket: event.bucket, key: event.key },
              "onObjectStored is slow; answering the upload without waiting",
            );
            resolve();
          }, ctx.onObjectStoredTimeoutMs);
        }),
      ]);
    } catch (error) {
      // The object IS stored; the sweeper reconciles what the callback failed to record.
      logger.error({ requestId, bucket: event.bucket, key: event.key, err: error }, "onObjectStored failed after an upload was stored");
    } finally {
      clearTimeout(timer);
    }
  }

  function reply(form: TVerifiedPostForm, store: FsStore, etag: string, sha256: string | null): void {
    if (res.headersSent || res.destroyed) return;
    const location = `${store.publicUrl}${ctx.basePath}/${ctx.bucket}/${uriEncode(form.key)}`;
    res.setHeader("ETag", etag);
    // As S3 does for an upload that gave a checksum.
    if (sha256 !== null) res.setHeader(CHECKSUM_SHA256_FIELD, sha256HexToBase64(sha256));
    res.setHeader("Location", location);
    res.setHeader("x-amz-request-id", requestId);
    if (form.successActionStatus === 201) {
      const body =
        `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXml(location)}</Location>` +
        `<Bucket>${escapeXml(ctx.bucket)}</Bucket><Key>${escapeXml(form.key)}</Key><ETag>${escapeXml(etag)}</ETag></PostResponse>`;
      res.writeHead(201, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(form.successActionStatus);
    res.end();
  }

  /** Stops everything, removes the temp file, and answers `error` (null: the client is gone). */
  function fail(error: unknown): void {
    if (settled) return;
    settled = true;
    req.unpipe(parser);
    parser.removeAllListeners("field").removeAllListeners("file");
    parser.on("error", () => undefined);
    abort.abort();
    void cleanup();
    if (error === null) return;
    if (error instanceof AdmissionUnavailableError) {
      logger.error({ requestId, bucket: ctx.bucket, err: error.cause }, "could not check whether an upload is still wanted");
      reject(error);
    } else if (error instanceof S3ProtocolError) {
      reject(error);
    } else {
      logger.error({ requestId, bucket: ctx.bucket, err: error }, "upload failed");
      reject(new S3ProtocolError(500, "InternalError", "We encountered an internal error. Please try again."));
    }
  }

  async function cleanup(): Promise<void> {
    const current = upload;
    if (!current) return;
    // writeTempFile removes its file when it fails; a file it finished is removed here.
    const finished = await current.written.then(
      () => true,
      () => false,
    );
    if (finished && current.tempPath) await rm(current.tempPath, { force: true });
  }

  function reject(error: S3ProtocolError): void {
    sendS3Error(res, error, requestId);
    drainThenClose(req, { maxBytes: 1024 * 1024, maxMs: 2000 });
  }
}

export function requestTimeout(): S3ProtocolError {
  return new S3ProtocolError(
    400,
    "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout period.",
  );
}

function oneFileOnly(count: string): S3ProtocolError {
  return invalidArgument("POST requires exactly one file upload per request.", "file", count);
}

function preDataTooLarge(): S3ProtocolError {
  return new S3ProtocolError(400, "MaxPostPreDataLengthExceeded", "Your POST request fields preceding the upload file were too large.", {
    MaxPostPreDataLengthBytes: MAX_PRE_DATA_BYTES,
  });
}
