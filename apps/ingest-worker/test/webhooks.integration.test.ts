/**
 * Webhooks (docs/api.md#webhooks) end to end against real PostgreSQL, Mosquitto, the fs store and
 * a local HTTP receiver that checks every signature as a receiver would: events written in the
 * transaction of their change, delivered in order per device, retried after failures with every
 * attempt logged, redirects and private addresses refused; secrets stored sealed, never signed
 * with a key that does not open them.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPgPool } from "@fleetdrop/db/pool";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { createSecretBox, generateEncryptionKey, keyIdOf, parseEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";
import { sealWebhookSecret } from "@fleetdrop/shared/webhooks/secret";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, generateWebhookSecret, verifySignature } from "@fleetdrop/shared/webhooks/signature";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sealStoredWebhookSecrets } from "../src/webhooks/secrets";
import { sendWebhook } from "../src/webhooks/send";
import { createHarness, sleep, type THarness } from "./harness";
import { waitFor } from "./support/wait-for";

type TReceived = { path: string; headers: IncomingMessage["headers"]; body: string; verified: string };

let h: THarness;
let server: Server;
let endpoint: string;
let received: TReceived[] = [];
const secret = generateWebhookSecret();
const key = parseEncryptionKey(generateEncryptionKey());
const box = createSecretBox(key, [], "WEBHOOK_SECRET_KEY");
let behaviour: (request: TReceived, res: ServerResponse) => void = (_request, res) => void res.writeHead(200).end("ok");

const typesOf = (path: string) => received.filter((r) => r.path === path).map((r) => JSON.parse(r.body).type as string);

/** An endpoint as the dashboard saves it: the secret sealed under the worker's key (or `stored` as given). */
async function createEndpoint(path: string, events: string[], extra: { maxAttempts?: number; stored?: (id: string) => string } = {}) {
  const id = randomUUID();
  const { stored = (endpointId: string) => sealWebhookSecret(box, endpointId, secret), ...rest } = extra;
  return h.prisma.webhookEndpoint.create({
    data: { id, projectId: h.seed.projectId, url: `${endpoint}${path}`, secret: stored(id), events, ...rest },
  });
}

beforeAll(async () => {
  h = await createHarness("webhooks");
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(parts).toString();
      // What a receiver does: verify the raw body against the header before reading it.
      const check = verifySignature(secret, body, req.headers["fleetdrop-signature"] as string | undefined);
      const request = { path: req.url ?? "", headers: req.headers, body, verified: check.ok ? "ok" : check.reason };
      received.push(request);
      behaviour(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await h.startWorker({
    webhooks: { allowPrivateAddresses: true, backoffBaseMs: 50, backoffMaxMs: 200, pollIntervalMs: 100, secretBox: box },
  });
});

beforeEach(() => {
  received = [];
  behaviour = (_request, res) => void res.writeHead(200).end("ok");
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe("webhooks", () => {
  it("deliver a device's session and upload events in order, signed, with the event id the receiver dedupes on", async () => {
    const hook = await createEndpoint("/flow", ["session.opened", "file.uploaded", "session.closed"]);
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const session = (await device.openSession({ name: "flow" })) as { session_id: number };
      const file = path.join(await mkdtemp(path.join(tmpdir(), "fd-webhook-")), "a.txt");
      await writeFile(file, "hello");
      await device.uploadFile({ sessionId: session.session_id, path: file });
      await device.closeSession(session.session_id);
      await waitFor("three events", async () => typesOf("/flow").length >= 3);
      expect(typesOf("/flow")).toEqual(["session.opened", "file.uploaded", "session.closed"]);
      const flow = received.filter((r) => r.path === "/flow");
      for (const request of flow) {
        expect(request.verified).toBe("ok");
        const body = JSON.parse(request.body);
        expect(request.headers[EVENT_ID_HEADER]).toBe(body.id);
        expect(request.headers[EVENT_TYPE_HEADER]).toBe(body.type);
        expect(body).toMatchObject({ project: { id: h.seed.projectId }, device: { serial: "ROBOT-A" } });
      }
      expect(JSON.parse(flow[1]!.body).data).toMatchObject({ session_id: session.session_id, filename: "a.txt", size: 5 });
      await waitFor(
        "log written",
        async () => (await h.prisma.webhookDelivery.count({ where: { endpointId: hook.id, state: "delivered" } })) === 3,
      );
      expect(await h.prisma.webhookAttempt.count({ where: { delivery: { endpointId: hook.id }, status: 200 } })).toBe(3);
    } finally {
      await device.close();
      await h.prisma.webhookEndpoint.delete({ where: { id: hook.id } });
    }
  });

  it("send device.online and device.offline as the device's birth message and Last Will change its presence", async () => {
    const hook = await createEndpoint("/presence", ["device.online", "device.offline"]);
    try {
      const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A", announcePresence: true });
      await waitFor("device.online", async () => typesOf("/presence").includes("device.online"));
      // A socket cut without DISCONNECT: the broker publishes the Last Will.
      (device.client.stream as unknown as { destroy(): void }).destroy();
      await waitFor("device.offline", async () => typesOf("/presence").includes("device.offline"));
      await device.close().catch(() => {});
      expect(typesOf("/presence")).toEqual(["device.online", "device.offline"]);
      const [online, offline] = received.filter((r) => r.path === "/presence").map((r) => JSON.parse(r.body));
      expect(online).toMatchObject({ device: { serial: "ROBOT-A" }, data: { serial: "ROBOT-A", via: "device" } });
      expect(offline).toMatchObject({ device: { serial: "ROBOT-A" }, data: { serial: "ROBOT-A", via: "device" } });
    } finally {
      await h.prisma.webhookEndpoint.delete({ where: { id: hook.id } });
    }
  });

  it("write no event for a change that rolls back, and one for a change that commits", async () => {
    const hook = await createEndpoint("/tx", ["session.opened"]);
    const pool = createPgPool({ databaseUrl: h.db.url, max: 1 });
    try {
      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-B" } });
      const insert = "INSERT INTO sessions (device_id, project_id, name) VALUES ($1, $2, $3)";
      const client = await pool.connect();
      await client.query("BEGIN");
      await client.query(insert, [device.id, device.projectId, "rolled back"]);
      await client.query("ROLLBACK");
      await client.query(insert, [device.id, device.projectId, "committed"]);
      client.release();
      await waitFor("the committed one", async () => typesOf("/tx").length >= 1);
      await sleep(300);
      expect(received.filter((r) => r.path === "/tx").map((r) => JSON.parse(r.body).data.name)).toEqual(["committed"]);
      expect(await h.prisma.webhookEvent.count({ where: { data: { path: ["name"], equals: "rolled back" } } })).toBe(0);
    } finally {
      await pool.end();
      await h.prisma.webhookEndpoint.delete({ where: { id: hook.id } });
    }
  });

  it("retry after the receiver fails, log every attempt, and keep the lane's order", async () => {
    const hook = await createEndpoint("/flaky", ["session.opened"]);
    let failures = 2;
    behaviour = (_request, res) => {
      if (failures-- > 0) return void res.writeHead(503, { "retry-after": "0" }).end("busy");
      res.writeHead(204).end();
    };
    try {
      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-A" } });
      for (const name of ["one", "two", "three"]) {
        await h.prisma.session.create({ data: { deviceId: device.id, projectId: device.projectId, name } });
      }
      await waitFor(
        "all delivered",
        async () => (await h.prisma.webhookDelivery.count({ where: { endpointId: hook.id, state: "delivered" } })) === 3,
      );
      const names = received.filter((r) => r.path === "/flaky").map((r) => JSON.parse(r.body).data.name);
      // The first event is tried three times; the others wait behind it.
      expect(names).toEqual(["one", "one", "one", "two", "three"]);
      // Every attempt of one event carries the same event id.
      expect(new Set(received.slice(0, 3).map((r) => r.headers[EVENT_ID_HEADER])).size).toBe(1);
      const first = await h.prisma.webhookDelivery.findFirstOrThrow({
        where: { endpointId: hook.id },
        orderBy: { id: "asc" },
        include: { attemptLog: { orderBy: { id: "asc" } } },
      });
      expect(first.attemptLog.map((a) => a.status)).toEqual([503, 503, 204]);
      expect(first.attemptLog[0]!.error).toBe("HTTP 503: busy");
    } finally {
      await h.prisma.webhookEndpoint.delete({ where: { id: hook.id } });
    }
  });

  it("park an event after too many failures or a redirect, with the reason, and go on with the next", async () => {
    const hook = await createEndpoint("/moved", ["session.opened"], { maxAttempts: 2 });
    behaviour = (request, res) => {
      const name = JSON.parse(request.body).data.name;
      if (name === "redirected") return void res.writeHead(302, { location: "http://169.254.169.254/" }).end();
      if (name === "failing") return void res.writeHead(500).end("down");
      res.writeHead(200).end();
    };
    try {
      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-A" } });
      for (const name of ["redirected", "failing", "fine"]) {
        await h.prisma.session.create({ data: { deviceId: device.id, projectId: device.projectId, name } });
      }
      // The receiver sees the last request before the worker records its outcome: wait for the rows.
      const deliveries = () => h.prisma.webhookDelivery.findMany({ where: { endpointId: hook.id }, orderBy: { id: "asc" } });
      await waitFor("the last delivered", async () => (await deliveries()).map((r) => r.state).join() === "parked,parked,delivered");
      expect(typesOf("/moved")).toHaveLength(4);
      const rows = await deliveries();
      expect(rows.map((r) => r.state)).toEqual(["parked", "parked", "delivered"]);
      expect(rows[0]!.lastError).toMatch(/HTTP 302.*redirects are not followed/);
      expect(rows[0]!.attempts).toBe(1);
      expect(rows[1]!.lastError).toMatch(/HTTP 500: down \(gave up after 2 attempts\)/);
      expect(received.some((r) => r.path !== "/moved")).toBe(false);
    } finally {
      await h.prisma.webhookEndpoint.delete({ where: { id: hook.id } });
    }
  });

  it("store the secret sealed, so the column holds no plaintext, and sign with it so the receiver verifies", async () => {
    const hook = await createEndpoint("/sealed", ["session.opened"]);
    try {
      const row = await h.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: hook.id } });
      expect(row.secret).toMatch(new RegExp(`^v1\\.${keyIdOf(key)}\\.`));
      expect(row.secret).not.toContain(secret.slice("whsec_".length, 20));
      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-B" } });
      await h.prisma.session.create({ data: { deviceId: device.id, projectId: device.projectId, name: "sealed" } });
      await waitFor("the delivery", async () => received.some((r) => r.path === "/sealed"));
      expect(received.filter((r) => r.path === "/sealed").map((r) => r.verified)).toEqual(["ok"]);
    } finally {
      await h.prisma.webhookEndpoint.delete({ where: { id: hook.id } });
    }
  });

  it("never sign with a secret its key does not open: the delivery waits, and its log names the key it needs", async () => {
    const otherKey = parseEncryptionKey(generateEncryptionKey());
    const other = createSecretBox(otherKey, [], "WEBHOOK_SECRET_KEY");
    const hook = await createEndpoint("/wrong-key", ["session.opened"], { stored: (id) => sealWebhookSecret(other, id, secret) });
    // A sealed value moved onto another endpoint does not open either.
    const moved = await createEndpoint("/moved-secret", ["session.opened"], { stored: () => sealWebhookSecret(box, randomUUID(), secret) });
    try {
      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-B" } });
      await h.prisma.session.create({ data: { deviceId: device.id, projectId: device.projectId, name: "wrong key" } });
      const attempt = await waitFor("the failed attempts", async () =>
        h.prisma.webhookAttempt.findFirst({ where: { delivery: { endpointId: hook.id } }, orderBy: { id: "asc" } }),
      );
      expect(attempt.status).toBeNull();
      expect(attempt.error).toBe(
        `not sent: the endpoint's signing secret cannot be opened: sealed with key ${keyIdOf(otherKey)}, but WEBHOOK_SECRET_KEY ` +
          `is key ${keyIdOf(key)}: set the key it was sealed with (or add it to WEBHOOK_SECRET_KEY_PREVIOUS)`,
      );
      const movedAttempt = await waitFor("the moved secret's attempt", async () =>
        h.prisma.webhookAttempt.findFirst({ where: { delivery: { endpointId: moved.id } } }),
      );
      expect(movedAttempt.error).toMatch(/cannot be opened: the sealed value does not open: it was altered or belongs to another record/);
      const delivery = await h.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: hook.id } });
      expect(delivery.state).toBe("pending");
      expect(received.filter((r) => r.path === "/wrong-key" || r.path === "/moved-secret")).toEqual([]);
    } finally {
      await h.prisma.webhookEndpoint.deleteMany({ where: { id: { in: [hook.id, moved.id] } } });
    }
  });

  it("seal the plaintext secrets of endpoints saved before, and those of a previous key, which still sign", async () => {
    const previousKey = parseEncryptionKey(generateEncryptionKey());
    const legacy = await createEndpoint("/legacy", ["session.opened"], { stored: () => secret });
    const rotated = await createEndpoint("/rotated", ["session.opened"], {
      stored: (id) => sealWebhookSecret(createSecretBox(previousKey), id, secret),
    });
    const pool = createPgPool({ databaseUrl: h.db.url, max: 1 });
    try {
      const result = await sealStoredWebhookSecrets(pool, createSecretBox(key, [previousKey], "WEBHOOK_SECRET_KEY"));
      expect(result).toEqual({ sealed: 2, unreadable: [] });
      for (const id of [legacy.id, rotated.id]) {
        const row = await h.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
        expect(row.secret).toMatch(new RegExp(`^v1\\.${keyIdOf(key)}\\.`));
        expect(row.secret).not.toContain(secret);
      }
      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-B" } });
      await h.prisma.session.create({ data: { deviceId: device.id, projectId: device.projectId, name: "after sealing" } });
      await waitFor("both deliveries", async () => received.filter((r) => r.path === "/legacy" || r.path === "/rotated").length === 2);
      expect(received.filter((r) => r.path === "/legacy" || r.path === "/rotated").map((r) => r.verified)).toEqual(["ok", "ok"]);
    } finally {
      await pool.end();
      await h.prisma.webhookEndpoint.deleteMany({ where: { id: { in: [legacy.id, rotated.id] } } });
    }
  });

  it("refuse loopback and private targets unless the operator allows them, before connecting", async () => {
    const base = { secret, body: "{}", eventId: "e", eventType: "webhook.test", deliveryId: "1", timeoutMs: 1000 };
    const literal = await sendWebhook({ ...base, url: `${endpoint}/private`, allowPrivateAddresses: false });
    expect(literal).toMatchObject({ ok: false, status: null, permanent: true });
    expect(!literal.ok && literal.error).toMatch(/127\.0\.0\.1 is a private, loopback or reserved address/);
    const port = (server.address() as AddressInfo).port;
    const named = await sendWebhook({ ...base, url: `http://localhost:${port}/private`, allowPrivateAddresses: false });
    expect(named).toMatchObject({ ok: false, permanent: true });
    expect(received.filter((r) => r.path === "/private")).toEqual([]);
    const allowed = await sendWebhook({ ...base, url: `${endpoint}/private`, allowPrivateAddresses: true });
    expect(allowed).toMatchObject({ ok: true, status: 200 });
    expect(received.filter((r) => r.path === "/private")).toHaveLength(1);
  });
});
