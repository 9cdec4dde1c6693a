/**
 * `PUT <basePath>/<bucket>/<key>?partNumber=N&uploadId=U&X-Amz-...`: one part of a multipart
 * upload into a filesystem store, through a URL the store presigned for PUT (like S3's presigned
 * UploadPart). The signature covers the key, the part number and the upload id, so a URL cannot
 * be turned to another part or upload. The application is asked before any byte is read
 * (TAdmitPart: the upload is still open, its session too). The part must have exactly the bytes
 * of its place in the object; it is answered 200 with its ETag only once it is durable
 * (fs-multipart.ts). The caller holds an upload slot for it (slow-client limits).
 */
import type { ServerResponse } from "node:http";

import { presignedRequestStore, type TPresignedRequest } from "./fs-presigned-request";
import { PartBusyError, PartSizeError } from "./fs-multipart";
import type { TEndpointLogger } from "./fs-post-object";
import type { TUploadRefusal } from "./fs-upload-admission";
import type { FsStore } from "./fs-store";
import { drainThenClose, sendS3Error } from "./http-reply";
import { invalidArgument, S3ProtocolError } from "./s3-protocol-error";
import { MULTIPART_LIMITS, NoSuchUploadError } from "./store";

export type TPartAdmission = {
  store: FsStore;
  /** Relative to the store's prefix. */
  key: string;
  uploadId: string;
  partNumber: number;
};

/** Resolves null to let the part through; throwing answers 503 (the device retries). */
export type TAdmitPart = (request: TPartAdmission) => Promise<TUploadRefusal | null>;

export type TPutPartContext = TPresignedRequest & {
  res: ServerResponse;
  requestId: string;
  logger: TEndpointLogger;
  admitPart?: TAdmitPart;
  idleTimeoutMs: number;
  onDone: () => void;
};

export type TPutPartControl = { end(error: S3ProtocolError): void };

export function handlePutPart(ctx: TPutPartContext): TPutPartControl {
  const { req, res, requestId } = ctx;
  let answered = false;
  res.once("close", ctx.onDone);
  const answer = (error: unknown): void => {
    if (answered) return;
    answered = true;
    const s3 = toS3Error(error);
    // A device that goes away mid-part (a power cut) is not a fault of the platform's.
    const clientGone = (req.destroyed && !req.complete) || (error as { code?: unknown } | null)?.code === "ECONNRESET";
    if (s3.status >= 500 && !clientGone) ctx.logger.error({ requestId, bucket: ctx.bucket, err: error }, "part upload failed");
    sendS3Error(res, s3, requestId);
    drainThenClose(req, { maxBytes: 1024 * 1024, maxMs: 2000 });
  };
  req.setTimeout(ctx.idleTimeoutMs, () =>
    control.end(new S3ProtocolError(400, "RequestTimeout", "Your socket connection was idle too long.")),
  );
  const control: TPutPartControl = {
    end(error) {
      answer(error);
      req.destroy();
    },
  };
  void run().catch(answer);
  return control;

  async function run(): Promise<void> {
    const { store } = presignedRequestStore(ctx, ["PUT"], "Access Denied: the key is outside every store this access key may write");
    const params = new Map(ctx.query);
    const partText = params.get("partNumber") ?? "";
    const uploadId = params.get("uploadId") ?? "";
    const partNumber = /^[0-9]{1,5}$/.test(partText) ? Number(partText) : 0;
    if (partNumber < 1 || partNumber > MULTIPART_LIMITS.maxParts)
      throw invalidArgument(`Part number must be an integer between 1 and ${MULTIPART_LIMITS.maxParts}, inclusive`, "partNumber", partText);
    if (ctx.admitPart) {
      let refusal: TUploadRefusal | null;
      try {
        refusal = await ctx.admitPart({ store, key: ctx.key.slice(store.prefix.length), uploadId, partNumber });
      } catch (error) {
        ctx.logger.error({ requestId, bucket: ctx.bucket, err: error }, "could not check whether a part is still wanted");
        throw new S3ProtocolError(503, "ServiceUnavailable", "The upload cannot be checked right now. Please try again.");
      }
      if (refusal) throw new S3ProtocolError(refusal.status, refusal.code, refusal.message, { Key: ctx.key });
    }
    const part = await store.multipart.writePart(ctx.key, uploadId, partNumber, req);
    req.setTimeout(0);
    if (answered || res.headersSent || res.destroyed) return;
    answered = true;
    res.setHeader("ETag", part.etag);
    res.setHeader("x-amz-request-id", requestId);
    res.writeHead(200, { "Content-Length": 0 });
    res.end();
  }
}

function toS3Error(error: unknown): S3ProtocolError {
  if (error instanceof S3ProtocolError) return error;
  if (error instanceof NoSuchUploadError)
    return new S3ProtocolError(
      404,
      "NoSuchUpload",
      "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    );
  if (error instanceof PartSizeError) {
    return error.received > error.expected
      ? new S3ProtocolError(400, "EntityTooLarge", `Your proposed upload exceeds the part's size: ${error.message}`, {
          MaxSizeAllowed: error.expected,
        })
      : new S3ProtocolError(400, "IncompleteBody", `You did not provide the number of bytes of this part: ${error.message}`);
  }
  if (error instanceof PartBusyError) return new S3ProtocolError(409, "OperationAborted", error.message);
  return new S3ProtocolError(500, "InternalError", "We encountered an internal error. Please try again.");
}
