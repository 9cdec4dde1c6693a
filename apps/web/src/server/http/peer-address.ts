/**
 * The address of the TCP peer of each request, which Next.js does not hand to route handlers:
 * it only copies the socket address into X-Forwarded-For when the client sent none, so a client
 * that sends one hides its own address. `installPeerAddressHeader()` (called once from
 * instrumentation.ts, in the server's own process) stamps every incoming request with the socket
 * address under PEER_HEADER, replacing whatever the client sent under that name. Readers
 * believe the header only when the stamp is installed in this process, so a request cannot
 * forge it where the stamp is missing.
 */
import http from "node:http";
import https from "node:https";
import { normaliseAddress } from "./trusted-proxies";

export const PEER_HEADER = "x-fleetdrop-peer-address";

const INSTALLED = Symbol.for("fleetdrop.peerAddressHeader");
type TMarked = typeof globalThis & { [INSTALLED]?: boolean };

export function peerAddressHeaderInstalled(): boolean {
  return (globalThis as TMarked)[INSTALLED] === true;
}

function stamp(request: http.IncomingMessage): void {
  const address = request.socket?.remoteAddress;
  if (address) request.headers[PEER_HEADER] = normaliseAddress(address);
  else delete request.headers[PEER_HEADER];
}

/** Stamps the peer address on every request any HTTP(S) server of this process receives. */
export function installPeerAddressHeader(): void {
  if (peerAddressHeaderInstalled()) return;
  for (const Server of [http.Server, https.Server]) {
    const emit = Server.prototype.emit as (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
    Server.prototype.emit = function emitWithPeer(this: http.Server, event: string | symbol, ...args: unknown[]) {
      if (event === "request" || event === "checkContinue" || event === "checkExpectation") stamp(args[0] as http.IncomingMessage);
      return emit.call(this, event, ...args);
    } as typeof Server.prototype.emit;
  }
  (globalThis as TMarked)[INSTALLED] = true;
}
