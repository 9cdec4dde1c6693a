import "server-only";
import type { z } from "zod";
import { firstValues } from "@/lib/list-queries";
import type { TApiOperation } from "@/lib/api-v1/operations";
import type { TTokenProjectContext } from "@/server/auth/project-context";
import { clientIp } from "@/server/auth/client-ip";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { authenticateApiToken } from "./authenticate-api-token";
import { ApiProblem, invalidRequest, problemResponse } from "./problem";

/** The largest JSON body the API reads (the same bound as a device's JSON request). */
const MAX_BODY_BYTES = 64 * 1024;

type TInfer<T> = T extends z.ZodType ? z.output<T> : undefined;

export type TApiHandlerArgs<O extends TApiOperation> = {
  ctx: TTokenProjectContext;
  request: Request;
  params: TInfer<O["params"]>;
  query: TInfer<O["query"]>;
  body: TInfer<O["body"]>;
};

/** JSON operations return the data (validated against the success schema); binary ones a Response. */
type TApiResult<O extends TApiOperation> = O["success"] extends { schema: infer S extends z.ZodType } ? z.input<S> : Response;

type TRouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

const SAFE_METHODS = new Set(["GET", "HEAD"]);

async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiProblem(415, "unsupported_media_type", "Send the body as application/json");
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiProblem(413, "body_too_large", "The body is larger than 64 KiB");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiProblem(400, "invalid_json", "The body is not valid JSON");
  }
}

function parseWith<T extends z.ZodType | undefined>(schema: T, value: unknown, where: "path" | "query" | "body"): TInfer<T> {
  if (!schema) return undefined as TInfer<T>;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(where, parsed.error);
  return parsed.data as TInfer<T>;
}

function toProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof NotFoundError) return new ApiProblem(404, "not_found", "Not found");
  if (error instanceof ForbiddenError) return new ApiProblem(403, "forbidden", error.message);
  if (error instanceof UserInputError) return new ApiProblem(400, "refused", error.message);
  console.error("api: unexpected error", error);
  return new ApiProblem(500, "internal_error", "Something went wrong on the server");
}

/**
 * Builds the route handler of one API operation. Refuses by default, in this order: no valid
 * token → 401, over the token's rate → 429, a read token on a write operation (or any method
 * but GET) → 403, bad path, query or body → 400 naming each field. The handler then runs the
 * same domain functions the dashboard does, with the token's project context, so an id of
 * another project is a 404 exactly as in the dashboard. JSON answers are parsed with the
 * operation's success schema before they leave, so nothing outside the document is sent.
 */
export function withApiToken<O extends TApiOperation>(operation: O, handler: (args: TApiHandlerArgs<O>) => Promise<TApiResult<O>>) {
  return async (request: Request, context: TRouteContext): Promise<Response> => {
    try {
      const ctx = await authenticateApiToken(request);
      const needsWrite = operation.scope === "write" || !SAFE_METHODS.has(request.method.toUpperCase());
      if (needsWrite && ctx.token.scope !== "write") {
        throw new ApiProblem(403, "insufficient_scope", "This token may only read: create a read-and-write token for this");
      }
      ctx.ip = clientIp(request.headers);
      const params = parseWith(operation.params, await context.params, "path");
      const query = parseWith(operation.query, firstValues(new URL(request.url).searchParams), "query");
      const body = parseWith(operation.body, operation.body ? await readJson(request) : undefined, "body");
      const result = await handler({ ctx, request, params, query, body } as TApiHandlerArgs<O>);
      if (!("schema" in operation.success)) return result as Response;
      const data: unknown = operation.success.schema.parse(result);
      return Response.json(data, { status: operation.success.status, headers: { "Cache-Control": "no-store" } });
    } catch (error) {
      return problemResponse(toProblem(error));
    }
  };
}
