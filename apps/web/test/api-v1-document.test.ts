/**
 * The REST API's route files and its OpenAPI document describe the same endpoints: every
 * exported method of every /api/v1 route file is an operation of the table the document is
 * generated from, at the path its folder names, and every operation has its route.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { openApiDocument } from "@/server/api/openapi-document";

const V1 = path.resolve(import.meta.dirname, "../src/app/api/v1");

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return routeFiles(full);
    return entry === "route.ts" ? [full] : [];
  });
}

/** `sessions/[sessionId]/files/route.ts` → `/sessions/{sessionId}/files`. */
const templateOf = (file: string) => `/${path.relative(V1, path.dirname(file)).split(path.sep).join("/")}`.replace(/\[([^\]]+)\]/g, "{$1}");

describe("the OpenAPI document", () => {
  const served = routeFiles(V1)
    .filter((file) => !file.includes(`${path.sep}openapi.json${path.sep}`) && !file.includes(`${path.sep}[[...path]]${path.sep}`))
    .flatMap((file) => {
      const text = readFileSync(file, "utf8");
      return [...text.matchAll(/export const (GET|POST|PATCH|PUT|DELETE) = withApiToken\(API_OPERATIONS\.(\w+),/g)].map(
        ([, method, name]) => ({ file: path.relative(V1, file), method: method!, name: name!, path: templateOf(file) }),
      );
    });
  const document = openApiDocument();

  it("has every route file's methods, at the route's path, with the operation the handler validates with", () => {
    expect(served.length).toBeGreaterThanOrEqual(Object.keys(API_OPERATIONS).length);
    for (const route of served) {
      const operation = API_OPERATIONS[route.name as keyof typeof API_OPERATIONS];
      expect(operation, route.file).toBeDefined();
      expect({ method: operation.method, path: operation.path }, route.file).toEqual({ method: route.method, path: route.path });
      const inDocument = document.paths?.[route.path]?.[route.method.toLowerCase() as "get"];
      expect(inDocument?.operationId, `${route.method} ${route.path} in the document`).toBe(route.name);
    }
  });

  it("has no operation without a route, and names each one once", () => {
    const names = served.map((route) => route.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.toSorted()).toEqual(Object.keys(API_OPERATIONS).toSorted());
    const documented = Object.entries(document.paths ?? {}).flatMap(([p, item]) =>
      Object.keys(item ?? {})
        .filter((key) => ["get", "post", "patch", "put", "delete"].includes(key))
        .map((method) => `${method.toUpperCase()} ${p}`),
    );
    expect(documented.toSorted()).toEqual(served.map((route) => `${route.method} ${route.path}`).toSorted());
  });

  it("is OpenAPI 3.1 with the bearer scheme on every operation and a problem answer for refusals", () => {
    expect(document.openapi).toBe("3.1.0");
    for (const [p, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item ?? {})) {
        const op = operation as { security?: unknown; responses: Record<string, { content?: Record<string, unknown> }> };
        expect(op.security, `${method} ${p}`).toEqual([{ bearerToken: [] }]);
        for (const status of ["401", "403", "429"])
          expect(Object.keys(op.responses[status]?.content ?? {})).toEqual(["application/problem+json"]);
      }
    }
  });
});
