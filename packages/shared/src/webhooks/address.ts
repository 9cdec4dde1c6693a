/**
 * Which addresses a webhook may be delivered to. A project admin chooses the URL, so without a
 * check the platform would POST into its own network (metadata services, databases' HTTP ports,
 * the dashboard itself): loopback, private, link-local, shared and reserved ranges are refused
 * unless the operator allows them (WEBHOOK_ALLOW_PRIVATE_ADDRESSES). The worker checks every
 * address a name resolves to at connect time, so a name that later resolves inward is refused too.
 */
import { BlockList, isIP } from "node:net";

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

/** True for an IP literal outside every private, loopback, link-local and reserved range. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPublicAddress(mapped[1]!);
    return !blocked.check(address, "ipv6");
  }
  return false;
}

/**
 * What can be said of a URL's host without resolving it: null when it may be public, else why
 * not (an IP literal in a blocked range, or a name that only ever means this machine or network).
 */
export function privateHostReason(url: URL): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(host)) return isPublicAddress(host) ? null : `${host} is a private, loopback or reserved address`;
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is this machine`;
  if (!host.includes(".") || host.endsWith(".local") || host.endsWith(".internal")) return `${host} is a local network name`;
  return null;
}
