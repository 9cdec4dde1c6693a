/** Test support: what writeFileBody sends, copied chunk by chunk (its buffers are reused). */
import { Writable } from "node:stream";
import { type TFileBody, writeFileBody } from "../file-body";

export async function collectFileBody(body: TFileBody, throttle?: (bytes: number) => Promise<void>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(Buffer.from(chunk));
      // Taken a little later, as a socket under load takes bytes: reuse must wait for this.
      setImmediate(callback);
    },
  });
  await writeFileBody(sink, body, throttle, () => {});
  return Buffer.concat(parts);
}
