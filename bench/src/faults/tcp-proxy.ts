/**
 * A TCP proxy in front of the storage endpoint: devices reach storage only through it, so taking
 * it down is storage becoming unreachable (connections refused, uploads in progress cut).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "@fleetdrop/test-broker";

export type TTcpProxy = {
  port: number;
  /** Refuses new connections and drops the open ones. */
  down(): Promise<void>;
  up(): Promise<void>;
};

export async function startTcpProxy(target: { host: string; port: number }): Promise<TTcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", () => {
        server = listening;
        resolve();
      });
    });
  await up();
  return {
    port,
    async down() {
      const closing = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (closing ? closing.close(() => resolve()) : resolve()));
    },
    up,
  };
}
