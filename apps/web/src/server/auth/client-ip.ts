import "server-only";
import { isIP } from "node:net";
import { env } from "@/env";
import { PEER_HEADER, peerAddressHeaderInstalled } from "@/server/http/peer-address";
import { normaliseAddress, trustedProxyMatcher, type TTrustedProxy } from "@/server/http/trusted-proxies";

type THeaders = Pick<Headers, "get"> | Record<string, string | string[] | undefined>;

function header(headers: THeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join(",") : value;
}

let matcher: { entries: TTrustedProxy[]; trusted: (address: string) => boolean } | undefined;

function isTrustedProxy(address: string, entries: TTrustedProxy[]): boolean {
  if (matcher?.entries !== entries) matcher = { entries, trusted: trustedProxyMatcher(entries) };
  return matcher.trusted(address);
}

/**
 * The client's address, for the per-address sign-in limits and the audit log. It starts from
 * the connection's own peer address; X-Forwarded-For is read only while that peer is one of
 * TRUSTED_PROXIES, from the right: each hop a trusted proxy appended is believed, and the first
 * address not itself a trusted proxy is the client. Anything a client writes into the header
 * left of that stays unread, so it can neither pick the address it is limited or audited as,
 * nor reset a limit. Null when the peer address is unknown (no stamp in this process).
 */
export function clientIp(headers: THeaders, trustedProxies: TTrustedProxy[] = env.TRUSTED_PROXIES): string | null {
  if (!peerAddressHeaderInstalled()) return null;
  const peer = header(headers, PEER_HEADER)?.trim();
  if (!peer) return null;
  let client = normaliseAddress(peer);
  const hops = (header(headers, "x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => normaliseAddress(hop))
    .filter(Boolean);
  while (isTrustedProxy(client, trustedProxies) && hops.length > 0) {
    const hop = hops.pop()!;
    // A hop that is no address at all was not written by a proxy: stop at the last proxy.
    if (isIP(hop) === 0) break;
    client = hop;
  }
  return client.slice(0, 64);
}
