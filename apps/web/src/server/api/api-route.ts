import "server-only";
import { ApiProblem, problemResponse } from "./problem";

/** Every method Next.js routes to a route handler; a route file that leaves one out gets Next's bare 405 for it. */
export const ROUTE_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
export type TRouteMethod = (typeof ROUTE_METHODS)[number];

type TRouteContext = { params: Promise<Record<string, string | string[] | undefined>> };
export type TRouteHandler = (request: Request, context: TRouteContext) => Promise<Response>;

/** The methods a path answers, as an Allow header lists them. */
function allowOf(served: TRouteMethod[]): string {
  const allow = new Set<TRouteMethod>([...served, "OPTIONS"]);
  if (allow.has("GET")) allow.add("HEAD");
  return [...allow].toSorted().join(", ");
}

export function methodNotAllowed(method: string, allow: string): Response {
  return problemResponse(
    new ApiProblem(405, "method_not_allowed", `${method} is not allowed here; this path answers ${allow}`, { headers: { Allow: allow } }),
  );
}

/**
 * Every method of one /api/v1 route file, given the ones it serves: HEAD as its GET (Next.js
 * sends no body for HEAD), OPTIONS listing them, and a problem+json 405 with `Allow` for each
 * other method. A route file exports the methods it does not serve from this, e.g.
 * `export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });`, so none
 * falls through to Next.js's empty 405 (test/api-v1-routing.test.ts checks every route file).
 */
export function otherMethods(
  served: Partial<Record<"GET" | "POST" | "PATCH" | "PUT" | "DELETE", TRouteHandler>>,
): Record<TRouteMethod, TRouteHandler> {
  const methods = Object.keys(served) as TRouteMethod[];
  const allow = allowOf(methods);
  const handlers = {} as Record<TRouteMethod, TRouteHandler>;
  for (const method of ROUTE_METHODS) {
    const own = (served as Partial<Record<TRouteMethod, TRouteHandler>>)[method];
    handlers[method] = own ?? (async (request: Request) => methodNotAllowed(request.method, allow));
  }
  if (served.GET && !("HEAD" in served)) handlers.HEAD = served.GET;
  handlers.OPTIONS = async () => new Response(null, { status: 204, headers: { Allow: allow, "Cache-Control": "no-store" } });
  return handlers;
}

/** Any method on a path below /api/v1 that no route serves. */
export function notFoundRoute(): Record<TRouteMethod, TRouteHandler> {
  const answer = async (request: Request) =>
    problemResponse(new ApiProblem(404, "not_found", `No API endpoint at ${new URL(request.url).pathname}: see /api/v1/openapi.json`));
  const handlers = {} as Record<TRouteMethod, TRouteHandler>;
  for (const method of ROUTE_METHODS) handlers[method] = answer;
  return handlers;
}
