/**
 * Every answer below /api/v1 is the API's problem+json, also for what no operation covers: a
 * method a path does not serve (405 with Allow) and a path no route serves (404). Next.js would
 * otherwise answer an empty 405, or the dashboard's HTML 404 page.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { ROUTE_METHODS, type TRouteHandler } from "@/server/api/api-route";

const V1 = path.resolve(import.meta.dirname, "../src/app/api/v1");
const UNKNOWN = path.join(V1, "[[...path]]", "route.ts");

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return routeFiles(full);
    return entry === "route.ts" ? [full] : [];
  });
}

const templateOf = (file: string) => `/${path.relative(V1, path.dirname(file)).split(path.sep).join("/")}`.replace(/\[([^\]]+)\]/g, "{$1}");
const routeModule = async (file: string) => (await import(file)) as Partial<Record<string, TRouteHandler>>;
const call = (handler: TRouteHandler | undefined, method: string, url: string) => {
  if (!handler) throw new Error(`no ${method} handler`);
  return handler(new Request(url, { method }), { params: Promise.resolve({}) });
};

/** The methods the API document gives a path (the OpenAPI document's own route serves GET). */
function servedMethods(template: string): string[] {
  if (template === "/openapi.json") return ["GET"];
  return Object.values(API_OPERATIONS)
    .filter((operation) => operation.path === template)
    .map((operation) => operation.method);
}

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as { status: number; code: string; message: string };
  expect(body).toMatchObject({ status, code });
  expect(body.message.length).toBeGreaterThan(0);
  return body;
}

describe("methods a route does not serve", () => {
  const routes = routeFiles(V1).filter((file) => file !== UNKNOWN);

  it("are exported by every route file, so none falls through to Next.js's empty 405", async () => {
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(API_OPERATIONS).length - 2);
    for (const file of routes) {
      const exported = await routeModule(file);
      for (const method of ROUTE_METHODS) expect(typeof exported[method], `${method} in ${path.relative(V1, file)}`).toBe("function");
    }
  });

  it("answer 405 method_not_allowed with Allow naming the served methods, and OPTIONS lists them", async () => {
    for (const file of routes) {
      const template = templateOf(file);
      const served = servedMethods(template);
      expect(served.length, template).toBeGreaterThan(0);
      const allow = [...new Set([...served, "OPTIONS", ...(served.includes("GET") ? ["HEAD"] : [])])].toSorted().join(", ");
      const exported = await routeModule(file);
      const url = `http://127.0.0.1:3000/api/v1${template.replace(/\{\w+\}/g, "x")}`;
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !served.includes(m))) {
        const response = await call(exported[method], method, url);
        const body = await expectProblem(response, 405, "method_not_allowed");
        expect(response.headers.get("allow"), `${method} ${template}`).toBe(allow);
        expect(body.message).toContain(method);
      }
      const options = await call(exported.OPTIONS, "OPTIONS", url);
      expect(options.status).toBe(204);
      expect(options.headers.get("allow")).toBe(allow);
    }
  });

  it("serve HEAD as GET (here: the GET's 401 without a token, not a 405)", async () => {
    const sessions = await routeModule(path.join(V1, "sessions", "route.ts"));
    expect(sessions.HEAD).toBe(sessions.GET);
    await expectProblem(await call(sessions.HEAD, "HEAD", "http://127.0.0.1:3000/api/v1/sessions"), 401, "unauthorized");
  });
});

describe("a path no route serves", () => {
  it("answers 404 not_found as problem+json for every method", async () => {
    const unknown = await routeModule(UNKNOWN);
    for (const method of ROUTE_METHODS) {
      const response = await call(unknown[method], method, "http://127.0.0.1:3000/api/v1/nope/deeper");
      const body = await expectProblem(response, 404, "not_found");
      expect(body.message).toContain("/api/v1/nope/deeper");
    }
  });
});
