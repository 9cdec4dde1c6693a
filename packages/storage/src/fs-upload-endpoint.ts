/**
 * The HTTP endpoint of the filesystem stores, mounted by the worker's HTTP server:
 *   POST    <basePath>/<bucket>         S3 POST Object (docs/protocol.md#upload-forms)
 *   GET     <basePath>/<bucket>/<key>   download through a presigned URL (HEAD too)
 *   PUT     <basePath>/<bucket>/<key>?partNumber&uploadId   a part of a multipart upload (fs-put-part.ts)
 *   OPTIONS <basePath>/...              CORS preflight, so that browsers can upload
 * `handle` returns false for any URL outside basePath, so the server can route the rest.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

import { FsEndpointStores } from "./fs-endpoint-stores";
import { handleGetObject } from "./fs-get-object";
import { handlePostObject, requestTimeout } from "./fs-post-object";
import type { TEndpointLogger, TObjectStoredEvent, TPostObjectControl } from "./fs-post-object";
import type { TAdmitUpload } from "./fs-upload-admission";
import { handlePutPart } from "./fs-put-part";
import type { TAdmitPart, TPutPartControl } from "./fs-put-part";
import { UploadSlots } from "./fs-upload-slots";
import { FS_ENDPOINT_BASE_PATH, FsStore } from "./fs-store";
import { drainThenClose, parseQueryString, sendS3Error } from "./http-reply";
import { S3ProtocolError } from "./s3-protocol-error";

export type { TEndpointLogger, TObjectStoredEvent } from "./fs-post-object";
export type { TAdmitUpload, TUploadAdmission, TUploadRefusal } from "./fs-upload-admission";
export type { TAdmitPart, TPartAdmission } from "./fs-put-part";

export type TFsEndpointOptions = {
  stores: Iterable<FsStore>;
  /** Must match where FsStore URLs point: `/fs` (the default). */
  basePath?: string;
  /** Awaited after each stored upload (before the reply, at most onObjectStoredTimeoutMs). */
  onObjectStored?: (event: TObjectStoredEvent) => Promise<void> | void;
  /**
   * Asked before an upload is read and again just before it is stored: a refusal is answered
   * as an S3 error and nothing is replaced (fs-upload-admission.ts). Unset: every upload a valid
   * form allows is stored.
   */
  admitUpload?: TAdmitUpload;
  /** Asked before a multipart part is read (fs-put-part.ts). Unset: every part a valid URL allows is stored. */
  admitPart?: TAdmitPart;
  logger?: TEndpointLogger;
  /**
   * Uploads in progress at once. When all are taken, a new upload evicts the slowest one below
   * minBytesPerSecond; only when none is that slow is it answered 503 SlowDown. Default 256.
   */
  maxConcurrentUploads?: number;
  /** Uploads in progress at once from one address (IPv6: one /64); 0: no limit. Default 32. */
  maxUploadsPerAddress?: number;
  /** An upload receiving less than this over rateWindowMs is ended (400 RequestTimeout); 0: off. Default 1024. */
  minBytesPerSecond?: number;
  /** Default 10 s. */
  rateWindowMs?: number;
  /** An upload whose connection is idle this long is abandoned. Default 30 s. */
  idleTimeoutMs?: number;
  /** Default 10 s. */
  onObjectStoredTimeoutMs?: number;
  /** Access-Control-Allow-Origin. Default `*` (forms and URLs carry their own authorisation). */
  corsAllowOrigin?: string;
  /** Remove upload temp files older than this at start-up (a crash leaves them). Default 1 h. */
  staleTempFileAgeMs?: number;
  /** The clock upload slots measure ages and rates with, in milliseconds. Default: Date.now. */
  now?: () => number;
};

export type TFsEndpoint = {
  /** Serves the request and returns true, or returns false when the URL is not under basePath. */
  handle: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Uploads currently in progress. */
  readonly activeUploads: number;
};

const consoleLogger: TEndpointLogger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};

export function createFsEndpoint(options: TFsEndpointOptions): TFsEndpoint {
  const stores = new FsEndpointStores(options.stores);
  const basePath = (options.basePath ?? FS_ENDPOINT_BASE_PATH).replace(/\/+$/, "");
  const logger = options.logger ?? consoleLogger;
  const rateWindowMs = options.rateWindowMs ?? 10_000;
  const slots = new UploadSlots({
    maxConcurrent: options.maxConcurrentUploads ?? 256,
    maxPerAddress: options.maxUploadsPerAddress ?? 32,
    minBytesPerSecond: options.minBytesPerSecond ?? 1024,
    rateWindowMs,
    graceMs: Math.min(1000, rateWindowMs),
    ...(options.now ? { now: options.now } : {}),
  });
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const onObjectStoredTimeoutMs = options.onObjectStoredTimeoutMs ?? 10_000;
  const allowOrigin = options.corsAllowOrigin ?? "*";

  const staleAge = options.staleTempFileAgeMs ?? 60 * 60 * 1000;
  for (const store of stores.all()) {
    store.removeStaleTempFiles(staleAge).catch((error: unknown) => {
      logger.warn({ bucket: store.bucket, err: error }, "could not remove stale upload temp files");
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "";
    const queryAt = url.indexOf("?");
    const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
    if (rawPath !== basePath && !rawPath.startsWith(`${basePath}/`)) return false;
    const requestId = randomBytes(8).toString("hex").toUpperCase();

    res.setHeader("Access-Control-Allow-Origin", allowOrigin);
    res.setHeader("Access-Control-Expose-Headers", "ETag, Location, x-amz-request-id, Content-Range, Content-Disposition");
    if (allowOrigin !== "*") res.setHeader("Vary", "Origin");

    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": "POST, PUT, GET, HEAD",
        "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "*",
        "Access-Control-Max-Age": "3000",
      });
      res.end();
      return true;
    }

    let bucket: string;
    let key: string | undefined;
    try {
      const rest = rawPath.slice(basePath.length + 1);
      const slash = rest.indexOf("/");
      bucket = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash));
      const rawKey = slash === -1 ? "" : rest.slice(slash + 1);
      key = rawKey === "" ? undefined : decodeURIComponent(rawKey);
    } catch {
      reject(req, res, new S3ProtocolError(400, "InvalidURI", "Couldn't parse the specified URI."), requestId);
      return true;
    }
    if (!stores.has(bucket)) {
      reject(req, res, new S3ProtocolError(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket }), requestId);
      return true;
    }

    if (req.method === "POST" && key === undefined) {
      let control: TPostObjectControl | undefined;
      const slot = slots.acquire(req, (reason) => {
        logger.warn({ requestId, bucket, address: clientAddressOf(req), reason }, "ended an upload that was sending too slowly");
        control?.end(requestTimeout());
      });
      if (typeof slot === "string") {
        const message =
          slot === "address_limit"
            ? "Too many uploads in progress from your address. Please reduce your request rate."
            : "Please reduce your request rate.";
        reject(req, res, new S3ProtocolError(503, "SlowDown", message), requestId);
        return true;
      }
      control = handlePostObject({
        req,
        res,
        bucket,
        basePath,
        stores,
        requestId,
        logger,
        ...(options.onObjectStored ? { onObjectStored: options.onObjectStored } : {}),
        ...(options.admitUpload ? { admitUpload: options.admitUpload } : {}),
        onObjectStoredTimeoutMs,
        idleTimeoutMs,
        onDone: () => slot.release(),
      });
      return true;
    }

    // Only parts of multipart uploads are PUT; a plain PutObject is not offered (405 below).
    const isPart = req.method === "PUT" && /[?&](uploadId|partNumber)=/.test(url);
    if ((req.method === "GET" || req.method === "HEAD" || isPart) && key !== undefined) {
      let query: Array<[string, string]>;
      try {
        query = parseQueryString(queryAt === -1 ? "" : url.slice(queryAt + 1));
      } catch {
        reject(req, res, new S3ProtocolError(400, "InvalidArgument", "The query string is not well-formed."), requestId);
        return true;
      }
      if (isPart) {
        // A part holds an upload slot like a POST: the same limits on slow and idle clients.
        let control: TPutPartControl | undefined;
        const slot = slots.acquire(req, (reason) => {
          logger.warn({ requestId, bucket, address: clientAddressOf(req), reason }, "ended a part upload that was sending too slowly");
          control?.end(requestTimeout());
        });
        if (typeof slot === "string") {
          reject(req, res, new S3ProtocolError(503, "SlowDown", "Please reduce your request rate."), requestId);
          return true;
        }
        // The slot counts bytes with a 'data' listener, which starts the flow: hold the body
        // until the part is admitted and its writer reads it.
        req.pause();
        control = handlePutPart({
          req,
          res,
          bucket,
          key,
          path: `${basePath}/${bucket}/${key}`,
          query,
          stores,
          requestId,
          logger,
          ...(options.admitPart ? { admitPart: options.admitPart } : {}),
          idleTimeoutMs,
          onDone: () => slot.release(),
        });
        return true;
      }
      void handleGetObject({ req, res, bucket, key, path: `${basePath}/${bucket}/${key}`, query, stores, requestId, logger });
      return true;
    }

    res.setHeader("Allow", key === undefined ? "POST, OPTIONS" : "GET, HEAD, PUT, OPTIONS");
    reject(req, res, new S3ProtocolError(405, "MethodNotAllowed", "The specified method is not allowed against this resource."), requestId);
    return true;
  }

  return {
    handle,
    get activeUploads() {
      return slots.size;
    },
  };
}

function clientAddressOf(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? "unknown";
}

function reject(req: IncomingMessage, res: ServerResponse, error: S3ProtocolError, requestId: string): void {
  sendS3Error(res, error, requestId, { head: req.method === "HEAD" });
  drainThenClose(req, { maxBytes: 1024 * 1024, maxMs: 2000 });
}
