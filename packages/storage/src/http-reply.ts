/** Writing S3-style answers on a node:http response. */
import type { IncomingMessage, ServerResponse } from "node:http";

import type { S3ProtocolError } from "./s3-protocol-error";

export function sendS3Error(res: ServerResponse, error: S3ProtocolError, requestId: string, options: { head?: boolean } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = options.head ? "" : error.toXml(requestId);
  res.statusCode = error.status;
  res.setHeader("Content-Type", "application/xml");
  res.setHeader("x-amz-request-id", requestId);
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

/**
 * After answering early (an error before the body was read), read and discard what the client
 * is still sending for a moment so that it sees the answer, then close the connection. Closing
 * at once would reset the connection and many clients would lose the answer.
 */
export function drainThenClose(req: IncomingMessage, limits: { maxBytes: number; maxMs: number }): void {
  if (req.complete || req.destroyed) return;
  let drained = 0;
  const close = (): void => {
    clearTimeout(timer);
    req.socket?.destroy();
  };
  const timer = setTimeout(close, limits.maxMs);
  timer.unref();
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limits.maxBytes) close();
  });
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
  req.resume();
}

/** Splits `?a=1&b=2` into decoded pairs, in order (`+` is a space). Throws URIError on bad escapes. */
export function parseQueryString(query: string): Array<[string, string]> {
  if (query === "") return [];
  return query.split("&").flatMap((part): Array<[string, string]> => {
    if (part === "") return [];
    const eq = part.indexOf("=");
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? "" : part.slice(eq + 1);
    return [[decodeURIComponent(name.replace(/\+/g, "%20")), decodeURIComponent(value.replace(/\+/g, "%20"))]];
  });
}
