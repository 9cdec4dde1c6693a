/**
 * `GET` / `HEAD <basePath>/<bucket>/<key>?X-Amz-...`: a download through a presigned URL. The
 * query signature and expiry are verified, then the file is streamed with its metadata, the
 * signed `response-*` overrides and single-range support (206/416).
 */
import type { ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";

import { DEFAULT_CONTENT_TYPE } from "@fleetdrop/shared/names";

import { presignedRequestStore, type TPresignedRequest } from "./fs-presigned-request";
import type { TEndpointLogger } from "./fs-post-object";
import { sendS3Error } from "./http-reply";
import { parseRangeHeader } from "./http-range";
import { RESPONSE_OVERRIDE_HEADERS } from "./presigned-url";
import type { TResponseOverrideParameter } from "./presigned-url";
import { invalidArgument, S3ProtocolError } from "./s3-protocol-error";
import { RangeNotSatisfiableError } from "./store";
import type { TObjectInfo } from "./store";

export type TGetObjectContext = TPresignedRequest & {
  res: ServerResponse;
  requestId: string;
  logger: TEndpointLogger;
};

export async function handleGetObject(ctx: TGetObjectContext): Promise<void> {
  const { req, res, requestId } = ctx;
  const head = req.method === "HEAD";
  try {
    // A URL signed for GET may also be used for HEAD (it reveals less than GET).
    const { store, verified } = presignedRequestStore(ctx, head ? ["HEAD", "GET"] : ["GET"]);

    const info = await store.files.head(ctx.key);
    if (!info) throw noSuchKey(ctx.key);
    const range = parseRangeHeader(headerText(req.headers.range), info.size);
    if (range === "unsatisfiable") throw new RangeNotSatisfiableError(info.size);

    if (head) {
      writeHeaders(res, info, verified.overrides, range ?? undefined, requestId);
      res.end();
      return;
    }
    const opened = await store.files.open(ctx.key, range ? { range } : {});
    if (!opened) throw noSuchKey(ctx.key);
    writeHeaders(res, opened.info, verified.overrides, opened.range, requestId);
    await pipeline(opened.body, res).catch(() => undefined); // a client that stops reading
  } catch (error) {
    if (error instanceof RangeNotSatisfiableError) {
      res.setHeader("Content-Range", `bytes */${error.size}`);
      sendS3Error(
        res,
        new S3ProtocolError(416, "InvalidRange", "The requested range is not satisfiable", { ActualObjectSize: error.size }),
        requestId,
        { head },
      );
    } else if (error instanceof S3ProtocolError) {
      sendS3Error(res, error, requestId, { head });
    } else {
      ctx.logger.error({ requestId, bucket: ctx.bucket, key: ctx.key, err: error }, "download failed");
      if (res.headersSent) res.destroy();
      else
        sendS3Error(res, new S3ProtocolError(500, "InternalError", "We encountered an internal error. Please try again."), requestId, {
          head,
        });
    }
  }
}

function writeHeaders(
  res: ServerResponse,
  info: TObjectInfo,
  overrides: Partial<Record<TResponseOverrideParameter, string>>,
  range: { start: number; end: number } | undefined,
  requestId: string,
): void {
  const headers: Record<string, string | number> = {
    "Content-Type": info.contentType ?? DEFAULT_CONTENT_TYPE,
    "Content-Length": range ? range.end - range.start + 1 : info.size,
    ETag: info.etag,
    "Last-Modified": info.lastModified.toUTCString(),
    "Accept-Ranges": "bytes",
    "x-amz-request-id": requestId,
  };
  if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${info.size}`;
  for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDE_HEADERS) as Array<[TResponseOverrideParameter, string]>) {
    const value = overrides[parameter];
    if (value !== undefined) headers[header] = value;
  }
  try {
    res.writeHead(range ? 206 : 200, headers);
  } catch {
    // A signed override that is not a valid header value (control characters).
    throw invalidArgument("A response-* override is not a valid header value");
  }
}

function noSuchKey(key: string): S3ProtocolError {
  return new S3ProtocolError(404, "NoSuchKey", "The specified key does not exist.", { Key: key });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
