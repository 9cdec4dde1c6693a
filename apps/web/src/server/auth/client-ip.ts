import "server-only";

/**
 * The client's address as the nearest proxy reports it (first X-Forwarded-For hop, or
 * X-Real-IP). Used for the audit log and the per-address sign-in limit; behind no proxy the
 * header is absent and the value null.
 */
export function clientIp(headers: Pick<Headers, "get"> | Record<string, string | string[] | undefined>): string | null {
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, string | string[] | undefined>)[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const forwarded = get("x-forwarded-for")?.split(",")[0]?.trim();
  const ip = forwarded || get("x-real-ip")?.trim();
  return ip ? ip.slice(0, 64) : null;
}
