/** Builds multipart/form-data bodies part by part, as devices and browsers send them (tests only). */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";

export type TPart =
  | { name: string; value: string }
  | { name: string; filename?: string; contentType?: string; content: Buffer | (() => AsyncIterable<Buffer>) };

export type TMultipartBody = { contentType: string; body: Readable; length?: number };

export function multipartBody(parts: readonly TPart[]): TMultipartBody {
  const boundary = `----fleetdrop${randomBytes(12).toString("hex")}`;
  const chunks: Array<Buffer | (() => AsyncIterable<Buffer>)> = [];
  for (const part of parts) {
    if ("value" in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
      continue;
    }
    const filename = part.filename === undefined ? "" : `; filename="${part.filename}"`;
    const type = part.contentType === undefined ? "" : `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`));
    chunks.push(part.content);
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const length = chunks.every((chunk) => Buffer.isBuffer(chunk)) ? chunks.reduce((sum, chunk) => sum + chunk.length, 0) : undefined;
  async function* generate(): AsyncGenerator<Buffer> {
    for (const chunk of chunks) {
      if (Buffer.isBuffer(chunk)) yield chunk;
      else yield* chunk();
    }
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Readable.from(generate(), { objectMode: false }),
    ...(length !== undefined ? { length } : {}),
  };
}

/** The fields of a presigned form, then the file: the order the protocol prescribes (docs/protocol.md#upload-forms). */
export function formParts(fields: Record<string, string>, file: Buffer, filename = "upload.bin", contentType?: string): TPart[] {
  return [
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
    { name: "file", filename, content: file, ...(contentType ? { contentType } : {}) },
  ];
}
