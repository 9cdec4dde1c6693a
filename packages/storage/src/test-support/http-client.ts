/**
 * A small HTTP client for tests that reads the answer even when the server answers before the
 * request body is sent (S3 does that on refused uploads), and can cut a request off mid-body.
 */
import http from "node:http";
import type { Readable } from "node:stream";

export type THttpResult = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Readable | Buffer; rawPath?: boolean } = {},
): Promise<THttpResult> {
  return new Promise((resolve, reject) => {
    const common = { method: options.method ?? "GET", headers: options.headers ?? {}, agent: false };
    // rawPath: send the path exactly as written (new URL() would resolve `..` segments).
    const match = options.rawPath ? /^(https?:\/\/[^/]+)(\/.*)$/.exec(url) : null;
    const req = match
      ? http.request({ ...common, host: new URL(match[1] as string).hostname, port: new URL(match[1] as string).port, path: match[2] })
      : http.request(url, common);
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on("error", (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

export function postMultipart(url: string, form: { contentType: string; body: Readable; length?: number }): Promise<THttpResult> {
  return request(url, {
    method: "POST",
    headers: { "Content-Type": form.contentType, ...(form.length !== undefined ? { "Content-Length": form.length } : {}) },
    body: form.body,
  });
}

/** The `<Code>` of an S3 XML error body. */
export function errorCode(result: THttpResult): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(result.body.toString("utf8"))?.[1];
}
