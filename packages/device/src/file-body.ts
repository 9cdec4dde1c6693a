/**
 * Sends a range of a file (with optional bytes before and after it, a form's head and tail) as
 * a request body through a few reused buffers. A stream of the file would allocate a new buffer
 * for every MiB read; on a large upload that churn made the garbage collector the device's largest
 * cost after the socket itself, in proportion to the process's heap (an agent with a long queue
 * pays more). Here each buffer is read into again only once the socket has taken its bytes, so
 * memory stays at DEPTH × CHUNK per request.
 */
import { open } from "node:fs/promises";
import type { Writable } from "node:stream";

export type TFileBody = {
  path: string;
  /** The first byte of the file to send. */
  start: number;
  /** How many bytes of the file, from `start`. */
  length: number;
  head?: Buffer;
  tail?: Buffer;
};

const CHUNK = 1024 * 1024;
const DEPTH = 3;

export function fileBodyLength(body: TFileBody): number {
  return (body.head?.length ?? 0) + body.length + (body.tail?.length ?? 0);
}

/**
 * Writes the body into `target` and ends it. `throttle` is awaited before each chunk goes out;
 * `onSent` gets the running count of bytes the socket has taken. Rejects if the target fails or
 * closes first, or if the file is shorter than `start + length`.
 */
export async function writeFileBody(
  target: Writable,
  body: TFileBody,
  throttle: ((bytes: number) => Promise<void>) | null | undefined,
  onSent: (sent: number) => void,
): Promise<void> {
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const onError = (error: Error) => fail(error);
  const onClose = () => fail(new Error("the connection closed before the body was sent"));
  target.once("error", onError);
  target.once("close", onClose);

  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const free: Buffer[] = [];
  const send = (chunk: Buffer, reuse: Buffer | null) => {
    const written = new Promise<void>((resolve, reject) => target.write(chunk, (error) => (error ? reject(error) : resolve())));
    const tracked: Promise<void> = written.then(() => {
      inFlight.delete(tracked);
      if (reuse) free.push(reuse);
      sent += chunk.length;
      onSent(sent);
    });
    tracked.catch(() => {});
    inFlight.add(tracked);
  };
  /** Waits for a chunk under way to be taken, or for the target to fail. */
  const drainOne = () => Promise.race([...inFlight, failed]);

  const handle = await open(body.path, "r");
  try {
    if (body.head?.length) {
      if (throttle) await Promise.race([throttle(body.head.length), failed]);
      send(body.head, null);
    }
    let allocated = 0;
    for (let offset = 0; offset < body.length;) {
      if (free.length === 0 && allocated < DEPTH) {
        free.push(Buffer.allocUnsafeSlow(Math.min(CHUNK, body.length)));
        allocated++;
      }
      while (free.length === 0) await drainOne();
      const buffer = free.pop()!;
      const want = Math.min(buffer.length, body.length - offset);
      const { bytesRead } = await Promise.race([handle.read(buffer, 0, want, body.start + offset), failed]);
      if (bytesRead === 0) throw new Error(`${body.path} is shorter than the ${body.start + body.length} bytes it had`);
      offset += bytesRead;
      if (throttle) await Promise.race([throttle(bytesRead), failed]);
      send(buffer.subarray(0, bytesRead), buffer);
    }
    if (body.tail?.length) send(body.tail, null);
    while (inFlight.size > 0) await drainOne();
    target.end();
  } catch (error) {
    target.destroy();
    throw error;
  } finally {
    target.off("error", onError);
    target.off("close", onClose);
    await handle.close();
  }
}
