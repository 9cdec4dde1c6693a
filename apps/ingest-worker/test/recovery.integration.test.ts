/**
 * Recovery after a crash or a database outage: a worker killed the hard way (SIGKILL in its own
 * process: no shutdown) leaves a stored object whose completion was never recorded and an
 * upload cut off mid-body; the next worker records the file and removes the orphan temp files
 * within its (short, for the test) recovery window. A database outage alone is healed the same
 * way once PostgreSQL is back.
 */
import { request } from "node:http";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TIngestWorkerConfig } from "../src/worker";
import { createHarness, rawDevice, sleep, type THarness } from "./harness";
import { forkWorker } from "./support/child-worker";
import { startTcpProxy } from "@fleetdrop/test-broker/tcp-proxy";

let h: THarness;
let stagingDir: string;

beforeAll(async () => {
  h = await createHarness("recovery");
  stagingDir = await mkdtemp(path.join(tmpdir(), "fd-recovery-staging-"));
});

afterAll(async () => {
  await h?.close();
  await rm(stagingDir, { recursive: true, force: true });
});

const RECOVERY: Partial<TIngestWorkerConfig> = { sweepIntervalMs: 200, recovery: { pendingRecheckMaxMs: 800, staleTempFileMs: 1500 } };

function childConfig(databaseUrl: string): TIngestWorkerConfig {
  return {
    databaseUrl,
    dbPoolSize: 4,
    mqtt: { url: h.broker.url, clientId: "ingest-doomed", protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 100 },
    topicPrefix: "fleetdrop",
    maxUploadMb: 100,
    uploadExpiresInSeconds: 3600,
    http: { host: "127.0.0.1", port: h.httpPort },
    // The defaults a production worker runs with.
    sweepIntervalMs: 10_000,
  };
}

type TForm = { url: string; fields: Record<string, string>; file_id: string; object_key: string };

/** The multipart body of a POST form: fields, then the file (its bytes are the caller's). */
function multipart(form: TForm, boundary: string): { head: Buffer; tail: Buffer } {
  const parts = Object.entries(form.fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const head =
    `${parts.join("")}--${boundary}\r\n` +
    `Content-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return { head: Buffer.from(head), tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

async function postWhole(form: TForm, bytes: Buffer): Promise<number> {
  const boundary = `b${randomUUID()}`;
  const { head, tail } = multipart(form, boundary);
  const response = await fetch(form.url, {
    method: "POST",
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat([head, bytes, tail]),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Starts an upload and leaves it half sent (the connection stays open until the server dies). */
function postHalf(form: TForm, bytes: Buffer): void {
  const boundary = `b${randomUUID()}`;
  const { head } = multipart(form, boundary);
  const req = request(form.url, {
    method: "POST",
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": String(head.length + bytes.length * 2 + 64) },
  });
  req.on("error", () => {});
  req.write(head);
  req.write(bytes);
}

const tmpFolder = () => path.join(h.storeDir, "fleetdrop", "tmp");
const tempFiles = async () => (await readdir(tmpFolder()).catch(() => [] as string[])).filter((name) => name.endsWith(".part"));

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: still ${JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`);
    await sleep(50);
  }
}

describe("after a worker is killed", () => {
  it("the next worker records a stored object left pending and removes the temp files of cut-off uploads and transfers", async () => {
    const url = new URL(h.db.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    const child = await forkWorker(childConfig(url.toString()), h.storeConfig, { fsEndpoint: true });
    const device = await rawDevice(h.broker, "ROBOT-A");
    try {
      const stored = (await device.ask("file_upload/request", {
        session_id: h.seed.openA,
        filename: "crash/stored.bin",
      })) as unknown as TForm;
      const cut = (await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "crash/cut.bin" })) as unknown as TForm;
      expect(stored.url).toContain(`127.0.0.1:${h.httpPort}`);

      // The database goes away: the upload is stored, its completion cannot be recorded.
      await proxy.down();
      expect(await postWhole(stored, Buffer.from("stored while the database was down"))).toBe(204);
      postHalf(cut, Buffer.alloc(256 * 1024, 7));
      await until("the cut-off upload's temp file", tempFiles, (names) => names.length === 1);

      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      await proxy.up();
      expect(await h.prisma.file.findUniqueOrThrow({ where: { id: stored.file_id } })).toMatchObject({ state: "pending" });

      // A transfer staging file nobody writes (its transfer is gone), last written a while ago.
      await mkdir(stagingDir, { recursive: true });
      const orphan = path.join(stagingDir, `${randomUUID()}.part`);
      await writeFile(orphan, "segment bytes of a transfer that no longer exists");
      const longAgo = new Date(Date.now() - 10 * 60_000);
      await utimes(orphan, longAgo, longAgo);

      await h.startWorker({
        ...RECOVERY,
        mqtt: { url: h.broker.url, clientId: "ingest-next", protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 100 },
        transfer: { stagingDir },
      });
      const recorded = await until(
        "the stored file",
        () => h.prisma.file.findUniqueOrThrow({ where: { id: stored.file_id } }),
        (file) => file.state === "uploaded",
      );
      expect(recorded).toMatchObject({ state: "uploaded", size: 34n });
      await until("orphan temp files", tempFiles, (names) => names.length === 0);
      await until(
        "orphan staging files",
        () => readdir(stagingDir),
        (names) => names.length === 0,
      );
      // The cut-off upload stored nothing: its file stays pending (its form is still valid).
      expect(await h.prisma.file.findUniqueOrThrow({ where: { id: cut.file_id } })).toMatchObject({ state: "pending" });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await device.close();
      for (const worker of h.workers.splice(0)) await worker.stop();
      await proxy.close();
    }
  });
});

describe("after a database outage", () => {
  it("a running worker refuses fs uploads it cannot admit, records what storage took in the outage once PostgreSQL is back", async () => {
    const url = new URL(h.db.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    await h.startWorker({
      ...RECOVERY,
      databaseUrl: url.toString(),
      mqtt: { url: h.broker.url, clientId: "ingest-outage", protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 100 },
    });
    const device = await rawDevice(h.broker, "ROBOT-A");
    try {
      const form = (await device.ask("file_upload/request", {
        session_id: h.seed.openA,
        filename: "outage/stored.bin",
      })) as unknown as TForm;
      await proxy.down();
      // The fs endpoint cannot tell whether the form was used already: "later", and nothing stored.
      expect(await postWhole(form, Buffer.from("refused meanwhile"))).toBe(503);
      expect(await h.store.head(form.object_key)).toBeNull();
      // S3 takes a POST whatever the database does: the object arrives without the worker.
      await h.store.put(form.object_key, "during the outage", { contentType: "application/octet-stream" });
      expect(await h.prisma.file.findUniqueOrThrow({ where: { id: form.file_id } })).toMatchObject({ state: "pending" });
      await proxy.up();
      const recorded = await until(
        "the stored file",
        () => h.prisma.file.findUniqueOrThrow({ where: { id: form.file_id } }),
        (file) => file.state === "uploaded",
      );
      expect(recorded).toMatchObject({ state: "uploaded", size: 17n });
    } finally {
      await device.close();
      for (const worker of h.workers.splice(0)) await worker.stop();
      await proxy.close();
    }
  });
});
