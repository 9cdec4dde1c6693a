/**
 * A multipart/form-data body for an S3 POST: every form field first, the file last in the
 * part named `file`. The file is read from disk as it is sent (file-body.ts), and the body's
 * exact length is known up front (S3 wants a Content-Length).
 */
import { randomBytes } from "node:crypto";
import { fileBodyLength, type TFileBody } from "./file-body";

export type TMultipartBody = {
  boundary: string;
  length: number;
  /** Bytes before the file's first byte. */ headLength: number;
  body: TFileBody;
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
  const body: TFileBody = {
    path: file.path,
    start: 0,
    length: file.size,
    head: Buffer.from(head, "utf8"),
    tail: Buffer.from(tail, "utf8"),
  };
  return { boundary, length: fileBodyLength(body), headLength: body.head!.length, body };
}
