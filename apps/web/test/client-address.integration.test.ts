/**
 * The client address over real HTTP: a Node server in this process with the peer-address stamp
 * installed (as instrumentation.ts does in the dashboard's server), requests sent from chosen
 * loopback addresses (127.0.0.2, 127.0.0.3) with whatever X-Forwarded-For an attacker likes.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAN } from "@/lib/roles";
import { clientIp } from "@/server/auth/client-ip";
import { authorizeCredentials } from "@/server/auth/options";
import { createWithProject } from "@/server/auth/with-project";
import { fileResponse } from "@/server/files/file-response";
import { installPeerAddressHeader, PEER_HEADER } from "@/server/http/peer-address";
import { parseTrustedProxies } from "@/server/http/trusted-proxies";
import { sessionsStore } from "@/server/stores/sessions-store";
import type { TSessionUser } from "@/server/auth/session-user";
import { makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

const PASSWORD = "a-good-long-password";
let server: http.Server;
let port: number;
let member: TSessionUser;

function toRequest(req: http.IncomingMessage, body?: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  return new Request(`http://127.0.0.1:${port}${req.url}`, { method: req.method, headers, body });
}

async function route(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  const url = new URL(req.url ?? "/", "http://x");
  const send = (status: number, payload: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
  if (url.pathname === "/sign-in") {
    try {
      await authorizeCredentials(JSON.parse(body) as Record<string, unknown>, req.headers);
      return send(200, { ok: true });
    } catch (error) {
      return send(401, { error: (error as Error).message });
    }
  }
  if (url.pathname === "/ip") {
    return send(200, { ip: clientIp(req.headers, parseTrustedProxies(url.searchParams.get("trusted") ?? "").entries) });
  }
  const download = /^\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (download) {
    const handler = createWithProject({ getUser: async () => member })<{ project: string; fileId: string }>(
      async (request, { ctx, params }) =>
        fileResponse({ ctx, fileId: params.fileId, disposition: "attachment", range: request.headers.get("range") }),
      { role: CAN.download },
    );
    const response = await handler(toRequest(req), { params: Promise.resolve({ project: download[1]!, fileId: download[2]! }) });
    res.writeHead(response.status).end(Buffer.from(await response.arrayBuffer()));
    return;
  }
  send(404, {});
}

function call(options: {
  from: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        localAddress: options.from,
        path: options.path,
        method: options.method ?? "GET",
        headers: { ...options.headers, ...(payload ? { "content-type": "application/json" } : {}) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

const signIn = async (from: string, email: string, password: string, forwardedFor?: string) => {
  const answer = await call({
    from,
    path: "/sign-in",
    method: "POST",
    body: { email, password },
    headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
  });
  return (JSON.parse(answer.body) as { ok?: boolean; error?: string }).error ?? "ok";
};

beforeAll(async () => {
  installPeerAddressHeader();
  member = await makeUser();
  server = http.createServer((req, res) => {
    route(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("the client address behind no trusted proxy", () => {
  it("is the connection's own: X-Forwarded-For and a forged stamp header are ignored", async () => {
    const answer = await call({
      from: "127.0.0.2",
      path: "/ip",
      headers: { "x-forwarded-for": "203.0.113.9", [PEER_HEADER]: "198.51.100.1" },
    });
    expect(JSON.parse(answer.body)).toEqual({ ip: "127.0.0.2" });
  });

  it("keeps the per-address sign-in limit however X-Forwarded-For changes, and records no spoofed address", async () => {
    const answers: string[] = [];
    for (let i = 0; i < 33; i++) answers.push(await signIn("127.0.0.2", `spray-${i}@example.test`, "guess", `203.0.113.${i}`));
    expect(answers.slice(0, 30)).toEqual(Array(30).fill("invalid"));
    expect(answers.slice(30)).toEqual(Array(3).fill("rate_limited"));
    const keys = (await prisma().signInThrottle.findMany({ select: { key: true } })).map((row) => row.key);
    expect(keys).toContain("address:127.0.0.2");
    expect(keys.filter((key) => key.includes("203.0.113."))).toEqual([]);
  });

  it("lets the owner in from their own address while an attacker elsewhere has used up their guesses", async () => {
    const owner = await makeUser({ password: PASSWORD });
    for (let i = 0; i < 7; i++) await signIn("127.0.0.4", owner.email, `attack-${i}`, `198.51.100.${i}`);
    expect(await signIn("127.0.0.4", owner.email, PASSWORD, "198.51.100.200")).toBe("rate_limited");
    expect(await signIn("127.0.0.3", owner.email, PASSWORD)).toBe("ok");
  });

  it("writes the connection's address, not the claimed one, into the audit log", async () => {
    const project = await makeProject([{ user: member, role: "member" }]);
    const device = await makeDevice(project.id);
    const session = await makeSession(device, project.id);
    const key = `sessions/${device.serial}/${session.id}/a.txt`;
    await sessionsStore().put(key, "hello", { contentType: "text/plain" });
    const file = await makeFile(session.id, device.serial, "a.txt", { contentType: "text/plain", size: 5 });
    const answer = await call({
      from: "127.0.0.2",
      path: `/download/${project.slug}/${file.id}`,
      headers: { "x-forwarded-for": "198.51.100.7" },
    });
    expect(answer).toEqual({ status: 200, body: "hello" });
    const entries = await prisma().auditLog.findMany({ where: { projectId: project.id, action: "file.download" }, select: { ip: true } });
    expect(entries).toEqual([{ ip: "127.0.0.2" }]);
  });
});

describe("the client address behind TRUSTED_PROXIES", () => {
  const ip = async (trusted: string, forwardedFor: string) =>
    (
      JSON.parse(
        (
          await call({
            from: "127.0.0.2",
            path: `/ip?trusted=${encodeURIComponent(trusted)}`,
            headers: { "x-forwarded-for": forwardedFor },
          })
        ).body,
      ) as { ip: string }
    ).ip;

  it("believes the hops trusted proxies appended, from the right, and nothing left of the client", async () => {
    expect(await ip("127.0.0.2", "198.51.100.7, 10.0.0.9")).toBe("10.0.0.9");
    expect(await ip("127.0.0.0/8, 10.0.0.0/8", "198.51.100.7, 10.0.0.9")).toBe("198.51.100.7");
    expect(await ip("127.0.0.2", "::ffff:192.0.2.4")).toBe("192.0.2.4");
    // A hop that is not an address was not written by a proxy.
    expect(await ip("127.0.0.2", "not-an-address")).toBe("127.0.0.2");
    // A peer that is not a trusted proxy: its header is the client's own claim.
    expect(await ip("10.0.0.1", "198.51.100.7")).toBe("127.0.0.2");
  });
});
