import { NextResponse, type NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { env } from "@/env";

/**
 * Only sends signed-out visitors to the sign-in page. It authorises nothing: every page,
 * route handler and server action checks the user and the project role itself.
 */
export async function proxy(request: NextRequest) {
  const token = await getToken({ req: request, secret: env.NEXTAUTH_SECRET });
  if (token) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = "/sign-in";
  url.search = `?callbackUrl=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Pages only: API routes answer 401 themselves; sign-in and static assets are public.
  matcher: ["/((?!api/|sign-in|_next/|favicon\\.ico|icon\\.svg|robots\\.txt).*)"],
};
