/** SigV4's timestamps: `20250112T103000Z` (x-amz-date) and its first eight characters (scope date). */

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A one-entry cache per formatter: both texts have a resolution of one second, and the worker
 * formats them for every form it signs (thousands a second under load).
 */
function perSecond(format: (second: number) => string): (date: Date) => string {
  let cachedSecond = Number.NaN;
  let cachedText = "";
  return (date) => {
    const second = Math.floor(date.getTime() / 1000);
    if (second !== cachedSecond) {
      cachedText = format(second);
      cachedSecond = second;
    }
    return cachedText;
  };
}

/** `YYYYMMDDTHHMMSSZ` of a date, in UTC. */
export const toAmzDate: (date: Date) => string = perSecond((second) => {
  const iso = new Date(second * 1000).toISOString(); // 2025-01-12T10:30:00.000Z
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + "T" + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + "Z";
});

/** Milliseconds since the epoch of an x-amz-date value, or null when it is not one. */
export function parseAmzDate(value: string): number | null {
  const match = AMZ_DATE.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  // Reject impossible dates (Date.UTC would roll 20250231 over into March).
  const check = new Date(time);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return time;
}

/** ISO-8601 UTC as S3 accepts it in a POST policy: `2025-01-12T10:30:00Z` or with `.000`. */
const POLICY_EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The expiration of a POST policy (no fractional seconds, like the AWS SDKs write it). */
export const toPolicyExpiration: (date: Date) => string = perSecond((second) => `${new Date(second * 1000).toISOString().slice(0, 19)}Z`);

export function parsePolicyExpiration(value: string): number | null {
  if (!POLICY_EXPIRATION.test(value)) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}
