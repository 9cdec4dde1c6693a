/**
 * Chunk forwarding (docs/protocol.md#chunks) end to end: chunks published to a real Mosquitto are written to the PostgreSQL outbox
 * before their PUBACK and forwarded to a local HTTP endpoint that fails, delays and recovers:
 * order per device and stream, back-off and Retry-After, parking with the reason, and nothing
 * lost across a worker restart.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TIngestWorker } from "../src/worker";
import mqtt from "mqtt";
import { createHarness, sleep, type THarness } from "./harness";
import { waitFor } from "./support/wait-for";
import { runDeviceCli } from "./support/device-cli";

type TReceived = { path: string; headers: IncomingMessage["headers"]; body: string; at: number };

let h: THarness;
let worker: TIngestWorker;
let server: Server;
let endpoint: string;
let received: TReceived[] = [];
/** Decides each answer; default 204. */
let behaviour: (request: TReceived, res: ServerResponse) => void | Promise<void> = (_request, res) => void res.writeHead(204).end();

const CHUNKS = { backoffBaseMs: 50, backoffMaxMs: 300, pollIntervalMs: 100 };

beforeAll(async () => {
  h = await createHarness("chunks");
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const request = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(parts).toString(), at: Date.now() };
      received.push(request);
      void behaviour(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const project = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-A" } });
  await h.prisma.chunkStream.create({
    data: {
      projectId: project.projectId,
      name: "crash",
      urlTemplate: `${endpoint}/api/chunks/{device_id}?s={stream}`,
      headers: { authorization: "Bearer k-123", "x-serial": "{device_id}" },
      maxAttempts: 3,
      timeoutMs: 500,
    },
  });
  await h.prisma.chunkStream.create({
    data: { projectId: project.projectId, name: "metrics", urlTemplate: `${endpoint}/metrics/{device_id}` },
  });
  await h.prisma.chunkStream.create({
    data: { projectId: project.projectId, name: "slow", urlTemplate: `${endpoint}/slow`, timeoutMs: 500 },
  });
  await h.prisma.chunkStream.create({
    data: { projectId: project.projectId, name: "off", urlTemplate: `${endpoint}/off`, enabled: false },
  });
  worker = await h.startWorker({ chunks: CHUNKS });
});

beforeEach(() => {
  received = [];
  behaviour = (_request, res) => void res.writeHead(204).end();
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const bodiesOf = (prefix: string) => received.filter((r) => r.path.startsWith(prefix)).map((r) => r.body);

describe("chunk forwarding", () => {
  it("stores a chunk before acknowledging it and forwards it with the stream's URL and header templates", async () => {
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const answer = await device.sendChunk("crash", "dump-1", { confirm: true, contentType: "application/x-minidump" });
      expect(answer).toMatchObject({ success: true, status: 200, stream: "crash" });
      expect(answer!.chunk_id).toMatch(/^\d+$/);
      const [request] = await waitFor("delivery", async () => received.length > 0 && received);
      expect(request).toMatchObject({ path: "/api/chunks/ROBOT-A?s=crash", body: "dump-1" });
      expect(request!.headers).toMatchObject({
        authorization: "Bearer k-123",
        "x-serial": "ROBOT-A",
        "content-type": "application/x-minidump",
        "x-fleetdrop-device": "ROBOT-A",
        "x-fleetdrop-stream": "crash",
        "x-fleetdrop-chunk-id": answer!.chunk_id,
      });
      await waitFor("outbox emptied", async () => (await h.prisma.chunk.count()) === 0);
      const lane = await h.prisma.chunkLane.findFirstOrThrow({ where: { stream: { name: "crash" } } });
      expect(lane.deliveredCount).toBeGreaterThanOrEqual(1n);
    } finally {
      await device.close();
    }
  });

  it("delivers in order per device and stream", async () => {
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const sent = Array.from({ length: 200 }, (_, i) => `m-${i}`);
      await Promise.all(sent.map((body) => device.sendChunk("metrics", body)));
      await waitFor("all 200", async () => bodiesOf("/metrics/").length >= 200);
      expect(bodiesOf("/metrics/")).toEqual(sent);
    } finally {
      await device.close();
    }
  });

  it("refuses unknown, disabled and malformed streams, oversize chunks and unknown devices, with the spec's codes", async () => {
    const listen = async (serial: string) => {
      const client = await mqtt.connectAsync(h.broker.url, {
        clientId: `${serial}-chunks-${Math.random().toString(36).slice(2)}`,
        protocolVersion: 5,
      });
      const inbox: Record<string, unknown>[] = [];
      client.on("message", (_topic, payload) => inbox.push(JSON.parse(payload.toString()) as Record<string, unknown>));
      await client.subscribeAsync(`fleetdrop/fleet/${serial}/chunks/response`, { qos: 1 });
      return { client, inbox, serial, close: () => client.endAsync() };
    };
    const a = await listen("ROBOT-A");
    const other = await h.prisma.project.create({ data: { slug: "p-other-chunks", name: "Other fleet" } });
    await h.prisma.device.create({ data: { serial: "OTHER-1", name: "OTHER-1", projectId: other.id } });
    const b = await listen("OTHER-1");
    const ghost = await listen("GHOST");
    try {
      const refusal = async (device: typeof a, stream: string, payload: Buffer | string) => {
        await device.client.publishAsync(`fleetdrop/fleet/${device.serial}/chunks/${stream}`, payload, { qos: 1 });
        return waitFor("a refusal", async () => device.inbox.shift());
      };
      expect(await refusal(a, "nope", "x")).toMatchObject({ success: false, status: 404, code: "stream_not_found", stream: "nope" });
      expect(await refusal(a, "off", "x")).toMatchObject({ status: 404, code: "stream_not_found" });
      expect(await refusal(a, "bad.name", "x")).toMatchObject({ status: 400, code: "invalid_stream" });
      expect(await refusal(a, "crash", Buffer.alloc(1024 * 1024 + 1))).toMatchObject({ status: 413, code: "chunk_too_large" });
      // Streams are per project: OTHER-1's project has none.
      expect(await refusal(b, "crash", "x")).toMatchObject({ status: 404, code: "stream_not_found" });
      expect(await refusal(ghost, "crash", "x")).toMatchObject({ status: 403, code: "device_unknown" });
      expect(await h.prisma.chunk.count()).toBe(0);
      await sleep(300);
      expect(received).toHaveLength(0);
    } finally {
      await Promise.all([a.close(), b.close(), ghost.close()]);
    }
  });

  it("retries with back-off, honours Retry-After, survives slow answers, and keeps the order", async () => {
    let calls = 0;
    behaviour = async (request, res) => {
      calls++;
      if (calls === 1) return void res.writeHead(503, { "retry-after": "1" }).end("busy");
      if (calls === 2) return void res.writeHead(500).end("oops"); // back-off (50 ms base)
      if (calls === 3) {
        await sleep(800); // longer than the stream's 500 ms timeout
        return void res.writeHead(204).end();
      }
      res.writeHead(204).end();
    };
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      for (const body of ["r-0", "r-1", "r-2"]) await device.sendChunk("slow", body, { confirm: true });
      await waitFor("all delivered", async () => (await h.prisma.chunk.count()) === 0 && received.length >= 6);
      // The first attempt got 503 + Retry-After: 1; the next came no sooner than a second later.
      expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(950);
      // r-0 was tried until accepted (a timed-out attempt may have reached the endpoint: at least once).
      const bodies = received.map((r) => r.body);
      expect(bodies.slice(0, 3)).toEqual(["r-0", "r-0", "r-0"]);
      const firsts = [...new Set(bodies)];
      expect(firsts).toEqual(["r-0", "r-1", "r-2"]);
      const lane = await h.prisma.chunkLane.findFirstOrThrow({ where: { stream: { name: "slow" } } });
      expect(lane.lastError).toBeNull();
    } finally {
      await device.close();
    }
  });

  it("parks a chunk the endpoint refuses for good, or that failed too often, with the reason, and goes on with the next", async () => {
    behaviour = (request, res) => {
      if (request.body === "bad") return void res.writeHead(422).end("schema says no");
      if (request.body === "flaky") return void res.writeHead(502).end("upstream down");
      res.writeHead(204).end();
    };
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      for (const body of ["ok-1", "bad", "flaky", "ok-2"]) await device.sendChunk("crash", body, { confirm: true });
      await waitFor("ok-2 delivered", async () => received.some((r) => r.body === "ok-2"));
      const parked = await waitFor("two parked", async () => {
        const rows = await h.prisma.chunk.findMany({ where: { state: "parked" }, orderBy: { id: "asc" } });
        return rows.length === 2 && rows;
      });
      expect(parked.map((row) => [Buffer.from(row.payload).toString(), row.lastStatus, row.attempts])).toEqual([
        ["bad", 422, 1],
        ["flaky", 502, 3],
      ]);
      expect(parked[0]!.lastError).toBe("HTTP 422: schema says no");
      expect(parked[1]!.lastError).toBe("HTTP 502: upstream down (gave up after 3 attempts)");
      expect(received.filter((r) => r.body === "flaky")).toHaveLength(3);
      expect(received.map((r) => r.body).filter((b) => b.startsWith("ok"))).toEqual(["ok-1", "ok-2"]);
      await h.prisma.chunk.deleteMany({ where: { state: "parked" } });
    } finally {
      await device.close();
    }
  });

  it("loses nothing across a worker restart while the endpoint is down", async () => {
    behaviour = (_request, res) => void res.writeHead(503).end("maintenance");
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const sent = Array.from({ length: 30 }, (_, i) => `w-${i}`);
      await Promise.all(sent.map((body) => device.sendChunk("metrics", body)));
      await waitFor("stored", async () => (await h.prisma.chunk.count()) === 30);
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      // More chunks while no worker runs: they wait at the broker.
      const later = Array.from({ length: 10 }, (_, i) => `w-${30 + i}`);
      for (const body of later) await device.sendChunk("metrics", body);
      behaviour = (_request, res) => void res.writeHead(204).end();
      received = [];
      await h.prisma.chunkLane.updateMany({ data: { nextAttemptAt: new Date() } });
      worker = await h.startWorker({ chunks: CHUNKS });
      await waitFor("all 40", async () => new Set(bodiesOf("/metrics/")).size === 40 && (await h.prisma.chunk.count()) === 0);
      expect([...new Set(bodiesOf("/metrics/"))]).toEqual([...sent, ...later]);
    } finally {
      await device.close();
    }
  });

  it("the command line sends files (or stdin) as chunks and says what was stored; refusals exit 1 with the code", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "fd-chunks-cli-"));
    await writeFile(path.join(dir, "core.1"), "core dump one");
    const run = (args: string[], stdin?: string) =>
      runDeviceCli([...args, "--url", h.broker.url, "--device", "ROBOT-A"], { cwd: dir, stdin });
    const sent = await run(["chunks", "--stream", "metrics", "core.1"]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^stored core\.1 \(13 B\) on metrics {2}chunk_id=\d+/);
    const piped = await run(["chunks", "--stream", "metrics"], "from stdin");
    expect(piped.stdout).toMatch(/^stored stdin \(10 B\) on metrics/);
    await waitFor("both forwarded", async () => bodiesOf("/metrics/").length >= 2);
    expect(bodiesOf("/metrics/")).toEqual(["core dump one", "from stdin"]);
    const refused = await run(["chunks", "--stream", "nope", "core.1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/failed .*core\.1: .* \[stream_not_found\]/);
    const usage = await run(["chunks", "core.1"]);
    expect(usage.code).toBe(2);
  });

  it("the command line over MQTT 3.1.1 (no confirm) reports the worker's refusal and exits 1 instead of saying sent", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "fd-chunks-cli4-"));
    await writeFile(path.join(dir, "core.1"), "core dump one");
    const run = (args: string[]) =>
      runDeviceCli([...args, "--url", h.broker.url, "--device", "ROBOT-A", "--mqtt-version", "4"], { cwd: dir });
    const refused = await run(["chunks", "--stream", "nope", "core.1"]);
    expect(refused.stdout).not.toMatch(/^sent/m);
    expect(refused.stderr).toMatch(/refused: .*nope.*\[stream_not_found\]/);
    expect(refused.code).toBe(1);
    const sent = await run(["chunks", "--stream", "metrics", "core.1"]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^sent core\.1 \(13 B\) on metrics/);
  });
});
