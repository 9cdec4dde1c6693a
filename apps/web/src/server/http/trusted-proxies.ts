import { BlockList, isIP } from "node:net";

export type TTrustedProxy = { address: string; prefix: number; family: "ipv4" | "ipv6" };

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report it) as plain IPv4. */
export function normaliseAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

/** `TRUSTED_PROXIES`: addresses and CIDR ranges, comma- or space-separated. */
export function parseTrustedProxies(value: string): { entries: TTrustedProxy[]; problems: string[] } {
  const entries: TTrustedProxy[] = [];
  const problems: string[] = [];
  for (const item of value.split(/[\s,]+/).filter(Boolean)) {
    const [address = "", prefixText] = item.split("/");
    const version = isIP(normaliseAddress(address));
    const max = version === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : /^\d+$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (version === 0 || !(prefix >= 0 && prefix <= max)) {
      problems.push(`TRUSTED_PROXIES: "${item}" is not an IP address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/8)`);
      continue;
    }
    entries.push({ address: normaliseAddress(address), prefix, family: version === 6 ? "ipv6" : "ipv4" });
  }
  return { entries, problems };
}

/** Whether `address` is one of the trusted proxies. */
export function trustedProxyMatcher(entries: TTrustedProxy[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) list.addSubnet(entry.address, entry.prefix, entry.family);
  return (address) => {
    const normalised = normaliseAddress(address);
    const version = isIP(normalised);
    return version !== 0 && list.check(normalised, version === 6 ? "ipv6" : "ipv4");
  };
}
