/**
 * A multipart/form-data body for an S3 POST: every form field first, the file last in the
 * part named `file`. Streams the file from disk and knows its exact length up front (S3
 * wants a Content-Length).
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";

export type TMultipartBody = {
  boundary: string;
  length: number;
  /** Bytes before the file's first byte. */ headLength: number;
  stream(): Readable;
};

const quote = (value: string) => value.replace(/["\r\n\\]/g, (ch) => encodeURIComponent(ch));

export function multipartBody(
  fields: Record<string, string>,
  file: { path: string; size: number; filename: string; contentType: string },
): TMultipartBody {
  const boundary = `----fleetdrop${randomBytes(12).toString("hex")}`;
  let head = "";
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.filename)}"\r\n` +
    `Content-Type: ${file.contentType}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const headBytes = Buffer.from(head, "utf8");
  const tailBytes = Buffer.from(tail, "utf8");
  return {
    boundary,
    length: headBytes.length + file.size + tailBytes.length,
    headLength: headBytes.length,
    stream: () =>
      Readable.from(
        (async function* () {
          yield headBytes;
          yield* createReadStream(file.path, { highWaterMark: 1024 * 1024 });
          yield tailBytes;
        })(),
        { objectMode: false },
      ),
  };
}
