import { NextResponse, type NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { env } from "@/env";
import { crossSiteRefusal } from "@/server/http/same-origin";

const PUBLIC = /^\/(?:api\/|sign-in(?:\/|$))/;
/**
 * The REST API authenticates with bearer tokens only, never the session cookie (see
 * server/api/authenticate-api-token.ts): a forged cross-site request has no credential to borrow
 * there, and back ends may send any Origin.
 */
const TOKEN_API = /^\/api\/v1\//;

/**
 * Two jobs, neither of them authorisation (every page, route handler and server action checks
 * the user and the project role itself):
 *   - refuses state-changing requests from other sites (route handlers, server actions and
 *     next-auth's own endpoints alike; see same-origin.ts);
 *   - sends signed-out visitors of a page to the sign-in page.
 */
export async function proxy(request: NextRequest) {
  const refusal = TOKEN_API.test(request.nextUrl.pathname)
    ? null
    : crossSiteRefusal(request, { appUrl: env.NEXTAUTH_URL, tokenChecked: request.nextUrl.pathname.startsWith("/api/auth/") });
  if (refusal) return NextResponse.json({ error: refusal }, { status: 403, headers: { "Cache-Control": "no-store" } });
  // API routes answer 401 themselves; the sign-in page is public.
  if (PUBLIC.test(request.nextUrl.pathname)) return NextResponse.next();
  const token = await getToken({ req: request, secret: env.NEXTAUTH_SECRET });
  if (token) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = "/sign-in";
  url.search = `?callbackUrl=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Everything but static assets.
  matcher: ["/((?!_next/|favicon\\.ico|icon\\.svg|robots\\.txt).*)"],
};
