import "server-only";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { API_OPERATIONS, type TApiOperation } from "@/lib/api-v1/operations";
import { ZApiProblemSchema } from "@/lib/api-v1/schemas";

export const API_BASE_PATH = "/api/v1";

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ZApiProblemSchema } },
});

function operationObject(name: string, op: TApiOperation): ZodOpenApiOperationObject {
  const success =
    "schema" in op.success
      ? { description: op.success.description, content: { "application/json": { schema: op.success.schema } } }
      : { description: op.success.description, content: { [op.success.binary]: { schema: { type: "string", format: "binary" } } } };
  const responses: ZodOpenApiOperationObject["responses"] = {
    [op.success.status]: success,
    401: problem("No token, or one that is unknown, revoked or expired"),
    403: problem(op.scope === "write" ? "A read-only token" : "Not allowed"),
    429: {
      ...problem("Over the token's rate limit"),
      headers: { "Retry-After": { description: "Seconds until the next request is accepted", schema: { type: "integer" } } },
    },
  };
  if (op.params) responses["404"] = problem("No such thing in the token's project (ids of other projects too)");
  if (op.errors?.includes(400) || op.query || op.body) responses["400"] = problem("Bad input: each invalid field is named in issues");
  if (op.body) {
    responses["413"] = problem("The body is larger than 64 KiB");
    responses["415"] = problem("The body is not application/json");
  }
  return {
    operationId: name,
    summary: op.summary,
    description: op.description,
    tags: [op.tag],
    security: [{ bearerToken: [] }],
    ...(op.params || op.query
      ? { requestParams: { ...(op.params ? { path: op.params } : {}), ...(op.query ? { query: op.query } : {}) } }
      : {}),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: op.body } } } } : {}),
    responses,
  };
}

let cached: ReturnType<typeof createDocument> | undefined;

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the operations table and its zod schemas
 * (the ones the handlers validate with), by zod-openapi.
 */
export function openApiDocument(): ReturnType<typeof createDocument> {
  if (cached) return cached;
  const paths: ZodOpenApiPathsObject = {};
  for (const [name, op] of Object.entries(API_OPERATIONS) as [string, TApiOperation][]) {
    const item = (paths[op.path] ??= {});
    item[op.method.toLowerCase() as "get" | "post" | "patch"] = operationObject(name, op);
  }
  cached = createDocument({
    openapi: "3.1.0",
    info: {
      title: "Fleetdrop API",
      version: "1",
      description:
        "Devices, sessions and files of one project, for back ends. Authenticate with a project API token " +
        "(created by a project admin under API tokens): `Authorization: Bearer fd_…`. " +
        "Errors are application/problem+json with status, code and message.",
    },
    servers: [{ url: API_BASE_PATH }],
    tags: [{ name: "Devices" }, { name: "Sessions" }, { name: "Files" }, { name: "Captures" }, { name: "Commands" }],
    components: {
      securitySchemes: { bearerToken: { type: "http", scheme: "bearer", description: "A project API token, fd_…" } },
    },
    paths,
  });
  return cached;
}
