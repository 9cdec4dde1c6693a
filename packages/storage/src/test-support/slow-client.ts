/**
 * An upload that trickles: the form's fields and the file part's header at once, then one byte
 * of the file every `intervalMs`, from `localAddress` (any 127.x.y.z works on loopback, so tests
 * can play many clients). Tests only.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";

export type TSlowUpload = {
  /** The status line's code (0 when the connection closed without an answer) and the body. */
  done: Promise<{ status: number; body: string }>;
  stop(): void;
};

export function slowUpload(
  url: string,
  fields: Record<string, string>,
  options: { localAddress?: string; intervalMs: number },
): TSlowUpload {
  const target = new URL(url);
  const boundary = `----slow${randomBytes(8).toString("hex")}`;
  let head = "";
  for (const [name, value] of Object.entries(fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n`;
  const socket = net.connect({
    host: target.hostname,
    port: Number(target.port),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  socket.setNoDelay(true);
  let timer: NodeJS.Timeout | undefined;
  socket.on("connect", () => {
    socket.write(
      `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${Buffer.byteLength(head) + 1024 * 1024}\r\n\r\n${head}`,
    );
    timer = setInterval(() => {
      if (socket.writable) socket.write("x");
    }, options.intervalMs);
  });
  let received = "";
  const done = new Promise<{ status: number; body: string }>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve({ status: status ? Number(status) : 0, body: received.slice(received.indexOf("\r\n\r\n") + 4) });
    });
  });
  return {
    done,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
