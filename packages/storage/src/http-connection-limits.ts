/**
 * Connection-level limits for the HTTP server that mounts the fs endpoint: the endpoint only sees
 * a request once its headers are in, so a client that sends headers slowly, or opens connections
 * and sends nothing, has to be stopped by the server itself.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

export type THttpConnectionLimits = {
  /** A request's headers must be complete this long after its first byte (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** Open connections at once; more are closed as they arrive (Node's maxConnections). 0: no limit. */
  maxConnections: number;
  /** Open connections at once from one address; more are closed as they arrive. 0: no limit. */
  maxConnectionsPerAddress: number;
};

export const DEFAULT_HTTP_CONNECTION_LIMITS: THttpConnectionLimits = {
  headersTimeoutMs: 10_000,
  maxConnections: 2048,
  maxConnectionsPerAddress: 128,
};

/**
 * How often Node checks headersTimeout: pass it to `createServer` (`connectionsCheckingInterval`),
 * it cannot be changed afterwards. Without it a slow-header client is noticed up to 30 s late.
 */
export function connectionsCheckingIntervalFor(limits: THttpConnectionLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

export function applyConnectionLimits(server: Server, limits: THttpConnectionLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  if (limits.maxConnectionsPerAddress <= 0) return;
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "unknown";
    const count = open.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
