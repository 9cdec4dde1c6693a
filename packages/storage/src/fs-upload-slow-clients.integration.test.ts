/**
 * Slow and idle clients against the fs endpoint and its server, over real sockets: trickling
 * uploads (one byte at a time, from many loopback addresses) must not keep real uploads out,
 * and a server with the connection limits drops clients that send headers too slowly or open
 * too many connections from one address.
 */
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

import { afterEach, describe, expect, it } from "vitest";

import { createStore } from "./config";
import { createFsEndpoint } from "./fs-upload-endpoint";
import type { TFsEndpoint, TFsEndpointOptions } from "./fs-upload-endpoint";
import type { FsStore } from "./fs-store";
import { applyConnectionLimits, connectionsCheckingIntervalFor } from "./http-connection-limits";
import type { THttpConnectionLimits } from "./http-connection-limits";
import { errorCode, postMultipart } from "./test-support/http-client";
import { formParts, multipartBody } from "./test-support/multipart";
import { slowUpload } from "./test-support/slow-client";
import type { TSlowUpload } from "./test-support/slow-client";
import { makeTempDir } from "./test-support/temp-dir";

const ACCESS_KEY = "FLEETDROPTESTKEY";
const SECRET = "fleetdrop-test-secret-0123456789";

let temp: { dir: string; remove: () => Promise<void> } | undefined;
let server: http.Server | undefined;
let origin: string;
let store: FsStore;
let endpoint: TFsEndpoint;
const trickles: TSlowUpload[] = [];

async function start(options: Partial<TFsEndpointOptions>, limits?: THttpConnectionLimits): Promise<void> {
  temp = await makeTempDir("fs-slow-clients");
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
  server = http.createServer(limits ? { connectionsCheckingInterval: connectionsCheckingIntervalFor(limits) } : {}, (req, res) => {
    if (!handler(req, res)) res.writeHead(404).end("not under /fs");
  });
  server.requestTimeout = 0;
  if (limits) applyConnectionLimits(server, limits);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  store = createStore({
    backend: "fs",
    bucket: "uploads",
    rootDir: temp.dir,
    publicUrl: origin,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET,
  });
  endpoint = createFsEndpoint({ stores: [store], logger: { warn: () => undefined, error: () => undefined }, ...options });
  handler = endpoint.handle;
}

afterEach(async () => {
  for (const trickle of trickles.splice(0)) trickle.stop();
  server?.closeAllConnections();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  await temp?.remove();
  server = undefined;
  temp = undefined;
});

function form(key: string) {
  return store.presignPost({ key, contentType: "application/octet-stream", maxBytes: 8 * 1024 * 1024, expiresIn: 600 });
}

/** A trickling upload from 127.0.0.<n>. */
async function trickle(n: number, key: string, intervalMs = 200): Promise<TSlowUpload> {
  const post = await form(key);
  const upload = slowUpload(post.url, post.fields, { localAddress: `127.0.0.${n}`, intervalMs });
  trickles.push(upload);
  return upload;
}

async function realUpload(key: string, bytes = 256 * 1024) {
  const post = await form(key);
  return postMultipart(post.url, multipartBody(formParts(post.fields, Buffer.alloc(bytes, 7))));
}

describe("slow uploads cannot keep real ones out", () => {
  it("a new upload evicts a trickling one when every slot is taken", async () => {
    // The rate window is long: only eviction can free a slot here. The form fields count as
    // received bytes, so the minimum is set above what a trickle averages after its fields.
    let skewMs = 0;
    await start({
      maxConcurrentUploads: 4,
      maxUploadsPerAddress: 0,
      minBytesPerSecond: 8192,
      rateWindowMs: 60_000,
      now: () => Date.now() + skewMs,
    });
    const slow = await Promise.all([2, 3, 4, 5].map((n) => trickle(n, `slow/${n}.bin`)));
    await expect.poll(() => endpoint.activeUploads).toBe(4);
    skewMs += 1100; // past the grace (1 s) an upload gets before it can be evicted

    const real = await realUpload("real.bin");
    expect(real.status).toBe(204);
    expect((await store.head("real.bin"))?.size).toBe(256 * 1024);
    const ended = await Promise.race([Promise.any(slow.map((upload) => upload.done)), delay(5000).then(() => null)]);
    expect(ended).toMatchObject({ status: 400 });
    expect(ended!.body).toContain("<Code>RequestTimeout</Code>");
  });

  it("ends an upload that receives less than the minimum rate, storing nothing", async () => {
    await start({ minBytesPerSecond: 1024, rateWindowMs: 300 });
    const slow = await trickle(2, "slow.bin", 50);
    const answer = await slow.done;
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("<Code>RequestTimeout</Code>");
    expect(await store.head("slow.bin")).toBeNull();
    await expect.poll(() => endpoint.activeUploads).toBe(0);
  });

  it("ends a multipart part PUT that trickles, as it ends a trickling form, and holds no part", async () => {
    await start({ minBytesPerSecond: 1024, rateWindowMs: 300 });
    const key = "big/trickle.bin";
    const { uploadId } = await store.createMultipart({
      key,
      contentType: "application/octet-stream",
      size: 10 * 1024 * 1024,
      partSize: 5 * 1024 * 1024,
    });
    const url = new URL(await store.presignPart({ key, uploadId, partNumber: 1, expiresIn: 600 }));
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`);
    const timer = setInterval(() => socket.writable && socket.write("x"), 100);
    await new Promise((resolve) => socket.once("close", resolve));
    clearInterval(timer);
    expect(received).toMatch(/^HTTP\/1\.1 400/);
    expect(received).toContain("<Code>RequestTimeout</Code>");
    expect(await store.listParts(key, uploadId)).toEqual([]);
    await expect.poll(() => endpoint.activeUploads).toBe(0);
  });

  it("one address cannot hold more than its share of the slots", async () => {
    await start({ maxConcurrentUploads: 10, maxUploadsPerAddress: 2, minBytesPerSecond: 0 });
    await trickle(2, "a.bin");
    await trickle(2, "b.bin");
    await expect.poll(() => endpoint.activeUploads).toBe(2);
    const third = await trickle(2, "c.bin");
    const refused = await third.done;
    expect(refused.status).toBe(503);
    expect(refused.body).toContain("<Code>SlowDown</Code>");

    const real = await realUpload("real.bin");
    expect([real.status, errorCode(real)]).toEqual([204, undefined]);
  });
});

describe("the server's connection limits", () => {
  /** Opens a connection from 127.0.0.<n>, sends `data`, and resolves with what it got when it closed. */
  function connect(n: number, data: string): Promise<string> {
    const url = new URL(origin);
    return new Promise((resolve) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress: `127.0.0.${n}` }, () => socket.write(data));
      let received = "";
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString();
      });
      socket.on("error", () => undefined);
      socket.on("close", () => resolve(received));
    });
  }

  it("closes a connection whose headers do not arrive within the header timeout", async () => {
    await start({}, { headersTimeoutMs: 300, maxConnections: 0, maxConnectionsPerAddress: 0 });
    const answer = await connect(2, "POST /fs/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: multi");
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes connections from one address beyond its cap, not those of others", async () => {
    await start({}, { headersTimeoutMs: 10_000, maxConnections: 0, maxConnectionsPerAddress: 2 });
    const held = [
      net.connect({ port: Number(new URL(origin).port), host: "127.0.0.1", localAddress: "127.0.0.2" }),
      net.connect({ port: Number(new URL(origin).port), host: "127.0.0.1", localAddress: "127.0.0.2" }),
    ];
    try {
      await Promise.all(held.map((socket) => new Promise((resolve) => socket.once("connect", resolve))));
      await expect.poll(() => new Promise<number>((resolve) => server!.getConnections((_error, count) => resolve(count)))).toBe(2);
      expect(await connect(2, "GET /fs/uploads/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toBe("");
      expect(await connect(3, "GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toMatch(/^HTTP\/1\.1 404/);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
