/**
 * Cross-site request forgery guard for every state-changing request (anything but GET, HEAD,
 * OPTIONS). SameSite cookies alone do not stop it: another port or sub-domain of the same site
 * is "same-site", and a `text/plain` POST needs no CORS preflight. A browser says where a
 * request comes from in `Origin` (always, on such requests, in current browsers), else in
 * `Sec-Fetch-Site`, else in `Referer`; the first of them present must name this site's origin.
 * A request with none of them is a script's, not a browser's: it is refused only when it
 * carries the dashboard's session cookie (ambient authority a forged request would borrow),
 * so a script that signs in with a cookie must send `Origin` too. `tokenChecked` is for
 * endpoints that check a CSRF token of their own (next-auth's: a cookie matched by a form
 * field), where a request naming no origin is left to that check.
 *
 * "This site's origin" is NEXTAUTH_URL's, or the request's own Host header (what the browser
 * addressed), so the check holds behind a proxy that keeps Host.
 */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?next-auth\.session-token(?:\.\d+)?=/;

type TRequestLike = { method: string; headers: Pick<Headers, "get"> };

function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

function isOwnOrigin(origin: string | null, request: TRequestLike, configuredOrigin: string | null): boolean {
  if (!origin) return false;
  if (configuredOrigin && origin === configuredOrigin) return true;
  const host = request.headers.get("host");
  return Boolean(host) && new URL(origin).host === host!.toLowerCase();
}

/** Why the request must be refused (a sentence for a 403), or null when it may go on. */
export function crossSiteRefusal(request: TRequestLike, options: { appUrl?: string | null; tokenChecked?: boolean } = {}): string | null {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return null;
  const configuredOrigin = options.appUrl ? originOf(options.appUrl) : null;
  const origin = request.headers.get("origin");
  if (origin !== null) {
    return isOwnOrigin(originOf(origin), request, configuredOrigin) ? null : "Refused: the request comes from another site";
  }
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite !== null) return fetchSite === "same-origin" ? null : "Refused: the request comes from another site";
  const referer = request.headers.get("referer");
  if (referer !== null)
    return isOwnOrigin(originOf(referer), request, configuredOrigin) ? null : "Refused: the request comes from another site";
  if (!options.tokenChecked && SESSION_COOKIE.test(request.headers.get("cookie") ?? ""))
    return "Refused: send an Origin header naming this dashboard with a signed-in request";
  return null;
}
