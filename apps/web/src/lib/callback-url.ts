/**
 * Where to go after signing in: only a path on this site. Browsers read a URL more loosely
 * than a naive check does: they drop tabs and newlines anywhere, treat `\` as `/`, and take
 * `//host` or `/\host` as another site. So the value is refused when it holds controls,
 * whitespace or a backslash, when its path holds them once percent-decoded (up to three
 * times), when it or its decoded path does not start with exactly one `/`, or when parsing
 * it against this site would leave this site. What is kept is the parsed path, query and
 * fragment, which must itself start with exactly one `/`. Anything refused becomes `fallback`.
 */
export const DEFAULT_CALLBACK_PATH = "/";

const MAX_LENGTH = 2048;
const BASE = "http://fleetdrop.invalid";
// Controls, whitespace, backslashes: a browser drops or rewrites these, so no honest path holds them.
// oxlint-disable-next-line no-control-regex -- control characters are exactly what a callback path must not hold
const SUSPECT = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff\\]/;

function decodeFully(value: string): string | null {
  let current = value;
  for (let round = 0; round < 3; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return null;
    }
    if (next === current) return current;
    current = next;
  }
  // Still encoded after three rounds: nobody writes a path like that.
  return null;
}

const startsLikeAPath = (value: string) => value.startsWith("/") && !value.startsWith("//");

export function safeCallbackPath(value: unknown, fallback: string = DEFAULT_CALLBACK_PATH): string {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_LENGTH) return fallback;
  if (SUSPECT.test(raw) || !startsLikeAPath(raw)) return fallback;
  // A later decode (a proxy, a framework) must not turn the path into another site's.
  const decodedPath = decodeFully(raw.split(/[?#]/, 1)[0]!);
  if (decodedPath === null || SUSPECT.test(decodedPath) || !startsLikeAPath(decodedPath)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE || url.username || url.password) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return startsLikeAPath(path) ? path : fallback;
}
