/**
 * A TCP proxy a test or benchmark puts in front of a service (database, storage) so it can cut and
 * restore the service's reachability: down() refuses new connections and drops the open ones.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./mosquitto";

export type TTcpProxy = {
  port: number;
  /** Client connections open now (e.g. device uploads in progress: they do not keep connections alive). */
  openConnections(): number;
  /** Refuses new connections and drops the open ones. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** The same as down(): for tests that only need to release the proxy. */
  close(): Promise<void>;
};

export async function startTcpProxy(target: { host: string; port: number }): Promise<TTcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let server: Server | null = null;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = connect(target.port, target.host);
        clients.add(client);
        client.on("close", () => clients.delete(client));
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
  const down = async () => {
    const closing = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (closing ? closing.close(() => resolve()) : resolve()));
  };
  await up();
  return { port, openConnections: () => clients.size, down, up, close: down };
}
