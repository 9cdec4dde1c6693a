/**
 * Calls the REST API's route handlers the way Next.js does (a Request and the path's params),
 * and checks every JSON answer against the OpenAPI document's schema for its status.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "vitest";
import { API_OPERATIONS, type TApiOperationName } from "@/lib/api-v1/operations";
import { openApiDocument } from "@/server/api/openapi-document";
import * as devices from "@/app/api/v1/devices/route";
import * as deviceCommands from "@/app/api/v1/devices/[serial]/commands/route";
import * as sessions from "@/app/api/v1/sessions/route";
import * as session from "@/app/api/v1/sessions/[sessionId]/route";
import * as sessionFiles from "@/app/api/v1/sessions/[sessionId]/files/route";
import * as sessionArchive from "@/app/api/v1/sessions/[sessionId]/archive/route";
import * as sessionCaptures from "@/app/api/v1/sessions/[sessionId]/captures/route";
import * as capture from "@/app/api/v1/captures/[requestId]/route";
import * as file from "@/app/api/v1/files/[fileId]/route";
import * as fileDownloadUrl from "@/app/api/v1/files/[fileId]/download-url/route";

type THandler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
const ROUTES: Record<string, Partial<Record<"GET" | "POST" | "PATCH", THandler>>> = {
  "/devices": devices,
  "/devices/{serial}/commands": deviceCommands,
  "/sessions": sessions,
  "/sessions/{sessionId}": session,
  "/sessions/{sessionId}/files": sessionFiles,
  "/sessions/{sessionId}/archive": sessionArchive,
  "/sessions/{sessionId}/captures": sessionCaptures,
  "/captures/{requestId}": capture,
  "/files/{fileId}": file,
  "/files/{fileId}/download-url": fileDownloadUrl,
};

const document = openApiDocument();
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

/** The document's schema of one answer, with the document's components in reach of its $refs. */
function validatorFor(path: string, method: string, status: number, type: string) {
  const key = `${method} ${path} ${status} ${type}`;
  let validate = validators.get(key);
  if (!validate) {
    type TDocumentedOperation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
    const item = (document.paths ?? {})[path] as Record<string, TDocumentedOperation | undefined> | undefined;
    const operation = item?.[method.toLowerCase()];
    const schema = operation?.responses[String(status)]?.content?.[type]?.schema;
    expect(schema, `the document has no ${type} answer ${status} for ${method} ${path}`).toBeDefined();
    validate = ajv.compile({ ...schema, components: document.components });
    validators.set(key, validate);
  }
  return validate;
}

export type TApiAnswer = {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { items?: Record<string, unknown>[] };
  bytes?: Buffer;
};

/**
 * Calls `operation` with `params` (path), `query` and `body` (JSON). `headers` replace the
 * default `Authorization: Bearer <token>`. Every JSON answer, success or problem, must match
 * its schema in the document.
 */
export async function callApi(
  name: TApiOperationName,
  options: {
    token?: string | null;
    params?: Record<string, string | number>;
    query?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<TApiAnswer> {
  const operation = API_OPERATIONS[name];
  const handler = ROUTES[operation.path]?.[operation.method];
  if (!handler) throw new Error(`no route for ${operation.method} ${operation.path}`);
  const params = Object.fromEntries(Object.entries(options.params ?? {}).map(([k, v]) => [k, String(v)]));
  const concrete = operation.path.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(params[key] ?? ""));
  const url = new URL(`http://127.0.0.1:3000/api/v1${concrete}`);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = options.headers ?? (options.token ? { Authorization: `Bearer ${options.token}` } : {});
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  if (hasBody && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  const response = await handler(
    new Request(url, {
      method: operation.method,
      headers,
      ...(hasBody ? { body: options.rawBody ?? JSON.stringify(options.body) } : {}),
    }),
    { params: Promise.resolve(params) },
  );
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!;
  if (type === "application/json" || type === "application/problem+json") {
    const json = (await response.json()) as TApiAnswer["json"];
    const validate = validatorFor(operation.path, operation.method, response.status, type);
    expect(validate(json), `${name} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(json)}`).toBe(true);
    return { status: response.status, headers: response.headers, json };
  }
  return { status: response.status, headers: response.headers, json: {}, bytes: Buffer.from(await response.arrayBuffer()) };
}
