/**
 * A guard on the code itself: every route handler, server action and signed-in page goes
 * through one of the authorising wrappers, so a new one cannot forget to.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../src");

function files(dir: string, name: RegExp): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return files(full, name);
    return name.test(entry) ? [full] : [];
  });
}

const rel = (file: string) => path.relative(SRC, file);

describe("refuse by default", () => {
  it("wraps every dashboard route handler (except next-auth's own and the public liveness check) in withProject", () => {
    const health = path.join(SRC, "app/api/health/route.ts");
    // The liveness check is public for load balancers; it answers only ok or 503, no data.
    expect(readFileSync(health, "utf8")).not.toMatch(/findMany|findFirst|findUnique|params|searchParams/);
    const routes = files(path.join(SRC, "app/api"), /^route\.ts$/).filter(
      (f) => !f.includes(`${path.sep}auth${path.sep}`) && !f.includes(`${path.sep}v1${path.sep}`) && f !== health,
    );
    expect(routes.length).toBeGreaterThanOrEqual(5);
    for (const file of routes) {
      const text = readFileSync(file, "utf8");
      const exports = [...text.matchAll(/export\s+(?:const|async function|function)\s+(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b(.*)/g)];
      expect(exports.length, rel(file)).toBeGreaterThan(0);
      for (const [, method, rest] of exports) expect(rest, `${rel(file)} ${method}`).toMatch(/^\s*=\s*withProject</);
    }
  });

  it("wraps every REST API route handler (except the public OpenAPI document) in withApiToken", () => {
    const document = path.join(SRC, "app/api/v1/openapi.json/route.ts");
    // The document describes the endpoints; it reads no data.
    expect(readFileSync(document, "utf8")).not.toMatch(/db\(|findMany|findFirst|findUnique|params|searchParams|request/i);
    // Any other path answers a 404 problem for every method; it reads nothing either.
    const unknown = path.join(SRC, "app/api/v1/[[...path]]/route.ts");
    expect(readFileSync(unknown, "utf8")).toMatch(/= notFoundRoute\(\);\s*$/);
    expect(readFileSync(unknown, "utf8")).not.toMatch(/db\(|findMany|findFirst|findUnique|params|searchParams/i);
    const routes = files(path.join(SRC, "app/api/v1"), /^route\.ts$/).filter((f) => f !== document && f !== unknown);
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const file of routes) {
      const text = readFileSync(file, "utf8");
      const exports = [...text.matchAll(/export\s+(?:const|async function|function)\s+(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b(.*)/g)];
      expect(exports.length, rel(file)).toBeGreaterThan(0);
      for (const [, method, rest] of exports) expect(rest, `${rel(file)} ${method}`).toMatch(/^\s*=\s*withApiToken\(API_OPERATIONS\.\w+,/);
    }
  });

  it("builds every server action with projectAction or userAction", () => {
    const actions = files(path.join(SRC, "actions"), /\.ts$/);
    expect(actions.length).toBeGreaterThan(0);
    for (const file of actions) {
      const text = readFileSync(file, "utf8");
      expect(text.startsWith('"use server";'), rel(file)).toBe(true);
      expect(text, rel(file)).not.toMatch(/export\s+(async\s+)?function/);
      for (const [, name, rest] of text.matchAll(/export\s+const\s+(\w+)\s*=(.*)/g)) {
        expect(rest, `${rel(file)} ${name}`).toMatch(/^\s*(projectAction|userAction)\(/);
      }
    }
  });

  it("checks the user (and project role) in every signed-in page", () => {
    const pages = files(path.join(SRC, "app/(app)"), /^page\.tsx$/);
    expect(pages.length).toBeGreaterThanOrEqual(10);
    for (const file of pages) {
      expect(readFileSync(file, "utf8"), rel(file)).toMatch(/\b(requireProjectPage|requireUser|requirePlatformAdmin)\(/);
    }
  });
});
