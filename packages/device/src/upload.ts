/** POSTs a file to storage with a presigned form (S3 POST Object, or the fs store's endpoint). */
import { type ClientRequest, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { FleetdropError, StorageRejectedError } from "./errors";
import { type TFileBody, writeFileBody } from "./file-body";
import { multipartBody } from "./multipart";

export type TUploadProgress = { sent: number; total: number };

export async function postForm(
  form: { url: string; fields: Record<string, string> },
  file: { path: string; size: number; filename: string; contentType: string },
  onProgress?: (progress: TUploadProgress) => void,
  /** Resolves when `bytes` more may be sent (a bandwidth cap); default: no wait. */
  throttle?: (bytes: number) => Promise<void>,
): Promise<{ status: number; etag?: string }> {
  const body = multipartBody(form.fields, file);
  const url = new URL(form.url);
  const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${body.boundary}`, "content-length": body.length },
  });
  // Report the file's bytes, not the form around them.
  return sendToStorage(request, body.body, `upload to ${url.origin}`, throttle, (sent) =>
    onProgress?.({ sent: Math.min(file.size, Math.max(0, sent - body.headLength)), total: file.size }),
  );
}

/**
 * Sends `body` as the request's body (at the pace `throttle` allows, counting bytes into
 * `onSent`) and reads storage's answer: the form POST and the multipart part PUT both go out
 * this way. A refusal becomes StorageRejectedError, a broken connection `network_error`.
 */
export async function sendToStorage(
  request: ClientRequest,
  body: TFileBody,
  what: string,
  throttle: ((bytes: number) => Promise<void>) | null | undefined,
  onSent: (sent: number) => void,
): Promise<{ status: number; etag?: string }> {
  const response = new Promise<{ status: number; etag?: string; text: string }>((resolve, reject) => {
    request.once("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (text.length < 64 * 1024) text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, text }));
      res.on("error", reject);
    });
    request.once("error", reject);
  });
  try {
    await Promise.all([writeFileBody(request, body, throttle, onSent), response]);
  } catch (error) {
    // Storage may answer (e.g. EntityTooLarge) and close before the body is sent.
    const early = await Promise.race([response, new Promise<null>((resolve) => setTimeout(() => resolve(null), 50))]).catch(() => null);
    if (early && early.status >= 300) throw storageRejection(early.status, early.text);
    throw new FleetdropError(`${what} failed: ${(error as Error).message}`, "network_error", 0);
  }
  const result = await response;
  if (result.status >= 300) throw storageRejection(result.status, result.text);
  return { status: result.status, etag: result.etag };
}

/** The S3-style XML error storage answered, as an error the SDK throws. */
export function storageRejection(status: number, xml: string): StorageRejectedError {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? `HTTP${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? xml.slice(0, 200);
  return new StorageRejectedError(status, code, message);
}
