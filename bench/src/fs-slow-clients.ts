/**
 * Benchmark: real uploads through the fs store's endpoint while slow clients hold connections.
 *
 *   npm run bench -- fs-slow-clients [--slow 200] [--header-tricklers 50] [--interval-s 5]
 *                                    [--uploaders 4] [--size-mib 8] [--seconds 30]
 *
 * The endpoint runs in a child process with the worker's defaults (createFsEndpoint's limits and
 * the HTTP server's connection limits, DEFAULT_HTTP_CONNECTION_LIMITS). `--uploaders` clients on
 * 127.0.0.1 upload `--size-mib` files back to back: alone for half of `--seconds` before and
 * half after (the unloaded time), and for `--seconds` beside `--slow` trickling uploads (form fields, then one file byte every
 * `--interval-s`) and `--header-tricklers` connections that send their request headers one byte
 * at a time, each from its own address 127.0.1.x / 127.0.2.x. A trickler the endpoint ends is
 * replaced at once, so the load stays at its size for the whole phase. Target: the median upload
 * time under load within 2x the unloaded median, and no real upload refused.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { createStore } from "@fleetdrop/storage/config";
import { createFsEndpoint } from "@fleetdrop/storage/fs-upload-endpoint";
import {
  applyConnectionLimits,
  connectionsCheckingIntervalFor,
  DEFAULT_HTTP_CONNECTION_LIMITS,
} from "@fleetdrop/storage/http-connection-limits";
import { machineDescription } from "./machine";
import { median } from "./stats";

const MIB = 1024 * 1024;
const ACCESS_KEY = "FLEETDROPBENCH";
const SECRET = "fleetdrop-bench-secret-0123456789";
const BUCKET = "bench";
const TARGET_RATIO = 2;

function storeConfig(rootDir: string, publicUrl: string) {
  return { backend: "fs", bucket: BUCKET, rootDir, publicUrl, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET } as const;
}

// ---------------------------------------------------------------------------------------------
// Child: the endpoint under test, with the defaults the worker uses

async function serve(rootDir: string): Promise<void> {
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
  const limits = DEFAULT_HTTP_CONNECTION_LIMITS;
  const server = http.createServer({ connectionsCheckingInterval: connectionsCheckingIntervalFor(limits) }, (req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  });
  server.keepAliveTimeout = 65_000;
  applyConnectionLimits(server, limits);
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const store = createStore(storeConfig(rootDir, `http://127.0.0.1:${port}`));
  const quiet = { warn: () => undefined, error: (fields: Record<string, unknown>, message: string) => console.error(message, fields) };
  handle = createFsEndpoint({ stores: [store], logger: quiet }).handle;
  process.send?.({ port });
  process.on("disconnect", () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Parent: the real uploads and the slow clients

type TForm = { url: string; fields: Record<string, string> };

function multipartHead(fields: Record<string, string>, boundary: string): string {
  let head = "";
  for (const [name, value] of Object.entries(fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return (
    `${head}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`
  );
}

/** One real upload of `body`; resolves to its status (0: no answer) and seconds. */
function realUpload(form: TForm, body: Buffer): Promise<{ status: number; seconds: number }> {
  const boundary = `----bench${randomBytes(8).toString("hex")}`;
  const head = Buffer.from(multipartHead(form.fields, boundary));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    let status = 0;
    const finish = () => resolve({ status, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    const req = http.request(form.url, {
      method: "POST",
      agent: false,
      localAddress: "127.0.0.1",
      headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": head.length + body.length + tail.length },
    });
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on("end", finish);
      res.on("error", finish);
    });
    // A refusal may close the connection while the body is still being sent.
    req.on("error", () => setTimeout(finish, 50));
    req.write(head);
    req.write(body);
    req.end(tail);
  });
}

type TTrickler = { stop(): void };

/**
 * A connection from `localAddress` that sends its first `burst` bytes at once and then one byte
 * every `intervalMs`; when the server closes it, `onEnded` is told (and a new one takes its place).
 */
function trickle(port: number, localAddress: string, burst: string, intervalMs: number, onEnded: () => void): TTrickler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => {
    socket.write(burst);
    timer = setInterval(() => socket.write("x"), intervalMs);
  });
  socket.on("data", () => undefined);
  socket.on("error", () => undefined);
  socket.on("close", () => {
    clearInterval(timer);
    if (!stopped) onEnded();
  });
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      socket.destroy();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: "string" },
      slow: { type: "string", default: "200" },
      "header-tricklers": { type: "string", default: "50" },
      "interval-s": { type: "string", default: "5" },
      uploaders: { type: "string", default: "4" },
      "size-mib": { type: "string", default: "8" },
      seconds: { type: "string", default: "30" },
    },
  });
  if (values.serve !== undefined) {
    await serve(values.serve);
    return;
  }
  const slowCount = Number(values.slow);
  const headerCount = Number(values["header-tricklers"]);
  const intervalMs = Number(values["interval-s"]) * 1000;
  const uploaders = Number(values.uploaders);
  const size = Number(values["size-mib"]) * MIB;
  const loadedMs = Number(values.seconds) * 1000;

  const work = await mkdtemp(path.join(os.tmpdir(), "fleetdrop-bench-slow-"));
  const rootDir = path.join(work, "data");
  let child: ChildProcess | undefined;
  const tricklers = new Set<TTrickler>();
  try {
    console.log(`machine: ${machineDescription()}`);
    console.log(
      `load: ${slowCount} trickling uploads + ${headerCount} trickling headers (1 byte / ${intervalMs / 1000} s), ` +
        `${uploaders} uploaders of ${size / MIB} MiB, ${loadedMs / 1000} s`,
    );
    child = fork(fileURLToPath(import.meta.url), ["--serve", rootDir], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const port = await new Promise<number>((resolve, reject) => {
      child?.once("message", (message: { port: number }) => resolve(message.port));
      child?.once("exit", (code) => reject(new Error(`the endpoint process exited (${code})`)));
    });
    const store = createStore(storeConfig(rootDir, `http://127.0.0.1:${port}`));
    let serial = 0;
    const form = () =>
      store.presignPost({ key: `bench/${serial++}.bin`, contentType: "application/octet-stream", maxBytes: 64 * MIB, expiresIn: 3600 });
    const body = randomBytes(size);

    /** Uploads back to back on `uploaders` clients until `until`, or `count` each. */
    async function uploadPhase(stop: { until?: number; count?: number }) {
      const times: number[] = [];
      const refused: number[] = [];
      await Promise.all(
        Array.from({ length: uploaders }, async () => {
          for (let i = 0; stop.count === undefined || i < stop.count; i++) {
            if (stop.until !== undefined && Date.now() >= stop.until) break;
            const result = await realUpload(await form(), body);
            if (result.status === 204) times.push(result.seconds);
            else refused.push(result.status);
          }
        }),
      );
      return { times, refused };
    }

    await uploadPhase({ count: 2 }); // warm-up
    // Unloaded time is taken before and after the loaded phase (half as long each), so that drift
    // in the machine's other load hits both sides alike.
    const before = await uploadPhase({ until: Date.now() + loadedMs / 2 });

    let ended = 0;
    let stopping = false;
    const uploadTrickler = async (n: number): Promise<TTrickler> => {
      const post = await form();
      const boundary = `----slow${randomBytes(8).toString("hex")}`;
      const head = multipartHead(post.fields, boundary);
      const url = new URL(post.url);
      const request =
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${Buffer.byteLength(head) + 32 * MIB}\r\n\r\n${head}`;
      const address = `127.0.1.${1 + (n % 250)}`;
      const self: TTrickler = trickle(port, address, request, intervalMs, () => {
        ended++;
        tricklers.delete(self);
        if (!stopping) void uploadTrickler(n).then((next) => tricklers.add(next));
      });
      return self;
    };
    const headerTrickler = (n: number): TTrickler => {
      const address = `127.0.2.${1 + (n % 250)}`;
      const self: TTrickler = trickle(port, address, "P", intervalMs, () => {
        ended++;
        tricklers.delete(self);
        if (!stopping) tricklers.add(headerTrickler(n));
      });
      return self;
    };
    for (let n = 0; n < slowCount; n++) tricklers.add(await uploadTrickler(n));
    for (let n = 0; n < headerCount; n++) tricklers.add(headerTrickler(n));
    // Let every trickler get its slot before the real uploads start.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const loaded = await uploadPhase({ until: Date.now() + loadedMs });
    stopping = true;
    for (const one of tricklers) one.stop();
    tricklers.clear();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await uploadPhase({ until: Date.now() + loadedMs / 2 });
    const unloaded = { times: [...before.times, ...after.times], refused: [...before.refused, ...after.refused] };

    const unloadedMedian = median(unloaded.times);
    const loadedMedian = median(loaded.times);
    const ratio = loadedMedian / unloadedMedian;
    console.log(
      `unloaded: ${unloaded.times.length} uploads, median ${(unloadedMedian * 1000).toFixed(1)} ms, refused ${unloaded.refused.length}`,
    );
    console.log(
      `loaded:   ${loaded.times.length} uploads, median ${(loadedMedian * 1000).toFixed(1)} ms, ` +
        `p90 ${(quantile(loaded.times, 0.9) * 1000).toFixed(1)} ms, ` +
        `refused ${loaded.refused.length}${loaded.refused.length ? ` (${[...new Set(loaded.refused)].join(", ")})` : ""}`,
    );
    console.log(`slow connections the server ended (each replaced at once): ${ended}`);
    const met = ratio <= TARGET_RATIO && loaded.refused.length === 0 && loaded.times.length > 0;
    console.log(`ratio loaded/unloaded: ${ratio.toFixed(2)}x   target <= ${TARGET_RATIO}x, nothing refused: ${met ? "met" : "MISSED"}`);
    if (!met) process.exitCode = 1;
  } finally {
    for (const one of tricklers) one.stop();
    if (child?.connected) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.disconnect();
      await exited;
    }
    await rm(work, { recursive: true, force: true });
  }
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

await main();
