/**
 * Cross-site request forgery: a page on another origin (or another port of the same host,
 * which SameSite cookies count as the same site) posting `text/plain` to the devices API with
 * the admin's cookie must change nothing.
 */
import "./provisioning-env";
import { NextRequest } from "next/server";
import { beforeAll, describe, expect, it } from "vitest";
import { CAN } from "@/lib/roles";
import { proxy } from "@/proxy";
import { createWithProject } from "@/server/auth/with-project";
import { postDevices } from "@/server/devices/devices-api";
import type { TSessionUser } from "@/server/auth/session-user";
import { makeProject, makeUser, prisma } from "./fixtures";

const SITE = "http://127.0.0.1:3000";
const COOKIE = "next-auth.session-token=signed-in";
let admin: TSessionUser;
let project: { id: string; slug: string };

beforeAll(async () => {
  admin = await makeUser();
  project = await makeProject([{ user: admin, role: "admin" }]);
});

const postCsv = async (serial: string, headers: Record<string, string>) => {
  const POST = createWithProject({ getUser: async () => admin })(postDevices, { role: CAN.manageDevices });
  const request = new Request(`${SITE}/api/p/${project.slug}/devices`, {
    method: "POST",
    body: `${serial}\n`,
    headers: { host: "127.0.0.1:3000", "content-type": "text/plain", cookie: COOKIE, ...headers },
  });
  return POST(request, { params: Promise.resolve({ project: project.slug }) });
};
const devices = (serial: string) => prisma().device.count({ where: { projectId: project.id, serial } });

describe("state-changing requests from another site", () => {
  it.each([
    ["another origin", { origin: "http://evil.example" }],
    ["another port of the same host (same site)", { origin: "http://127.0.0.1:4000" }],
    ["an opaque origin (sandboxed frame)", { origin: "null" }],
    ["no Origin, Sec-Fetch-Site cross-site", { "sec-fetch-site": "cross-site" }],
    ["no Origin, Sec-Fetch-Site same-site", { "sec-fetch-site": "same-site" }],
    ["no Origin, a foreign Referer", { referer: "http://evil.example/attack.html" }],
    ["nothing saying where it comes from, with the session cookie", {}],
  ])("refuses a text/plain POST to the devices API from %s and creates nothing", async (_label, headers) => {
    const serial = `CSRF-${Math.random().toString(36).slice(2, 8)}`;
    const response = await postCsv(serial, headers);
    expect(response.status).toBe(403);
    expect(await devices(serial)).toBe(0);
  });

  it("accepts the same request from the dashboard's own origin", async () => {
    for (const headers of [{ origin: SITE }, { "sec-fetch-site": "same-origin" }, { referer: `${SITE}/p/x/devices` }] as Record<
      string,
      string
    >[]) {
      const serial = `OWN-${Math.random().toString(36).slice(2, 8)}`;
      expect((await postCsv(serial, headers)).status).toBe(201);
      expect(await devices(serial)).toBe(1);
    }
  });

  it("refuses them in the proxy too, before any page, server action or route runs", async () => {
    const request = (path: string, method: string, headers: Record<string, string>) =>
      new NextRequest(`${SITE}${path}`, { method, headers: { host: "127.0.0.1:3000", cookie: COOKIE, ...headers } });
    for (const path of [`/api/p/${project.slug}/devices`, `/p/${project.slug}/devices`, "/api/auth/signout"]) {
      expect((await proxy(request(path, "POST", { origin: "http://evil.example" }))).status, path).toBe(403);
    }
    for (const path of [`/api/p/${project.slug}/devices`, `/p/${project.slug}/devices`]) {
      expect((await proxy(request(path, "DELETE", {}))).status, path).toBe(403);
    }
    // next-auth's endpoints check their own CSRF token when no origin is named.
    expect((await proxy(request("/api/auth/callback/credentials", "POST", {}))).status).toBe(200);
    // Reading is not refused (signed-out pages still go to sign in).
    const read = await proxy(request(`/api/p/${project.slug}/devices`, "GET", { origin: "http://evil.example" }));
    expect(read.status).toBe(200);
    expect((await proxy(request("/p/x", "POST", { origin: SITE }))).status).not.toBe(403);
  });

  it("leaves the token-only REST API to its own check: the cookie authenticates nothing there", async () => {
    // api-v1.integration.test.ts shows the API answers 401 to the dashboard's cookie alone.
    const request = new NextRequest(`${SITE}/api/v1/sessions`, {
      method: "POST",
      headers: { host: "127.0.0.1:3000", cookie: COOKIE, origin: "http://evil.example" },
    });
    expect((await proxy(request)).status).toBe(200);
  });
});
