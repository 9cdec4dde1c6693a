import { createStore } from "@fleetdrop/storage/config";
import { freePort } from "@fleetdrop/test-broker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestWorker } from "../src/worker";
import { createHarness, rawDevice, sleep, type THarness } from "./harness";
import { startTcpProxy } from "@fleetdrop/test-broker/tcp-proxy";

let h: THarness;

beforeAll(async () => {
  h = await createHarness("resilience");
});

afterAll(async () => {
  await h?.close();
});

describe("nothing is lost", () => {
  it("answers requests published while the worker was down once it is back", async () => {
    const first = await h.startWorker({
      mqtt: { url: h.broker.url, clientId: "ingest-offline", protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 100 },
    });
    await first.stop();
    h.workers.splice(h.workers.indexOf(first), 1);

    const device = await rawDevice(h.broker, "ROBOT-A");
    const ids = Array.from({ length: 25 }, (_, i) => `offline-${i}`);
    for (const [i, id] of ids.entries())
      await device.send("file_upload/request", { session_id: h.seed.openA, filename: `offline/${i}.bin`, request_id: id });
    await sleep(300);
    expect(device.inbox).toHaveLength(0);

    await h.startWorker({
      mqtt: { url: h.broker.url, clientId: "ingest-offline", protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 100 },
    });
    for (const id of ids) expect((await device.next((m) => m.body.request_id === id)).body).toMatchObject({ success: true });
    expect(await h.prisma.file.count({ where: { filename: { startsWith: "offline/" } } })).toBe(25);
    await device.close();
    for (const worker of h.workers.splice(0)) await worker.stop();
  });

  it("a worker stopped under load finishes what it took; the rest wait at the broker for the next one", async () => {
    const mqttConfig = {
      url: h.broker.url,
      clientId: "ingest-drain",
      protocolVersion: 5 as const,
      sessionExpirySeconds: 3600,
      receiveMaximum: 50,
    };
    const worker = await h.startWorker({ mqtt: mqttConfig });
    const device = await rawDevice(h.broker, "ROBOT-A");
    const ids = Array.from({ length: 200 }, (_, i) => `drain-${i}`);
    const sending = Promise.all(
      ids.map((id, i) => device.send("file_upload/request", { session_id: h.seed.openA, filename: `drain/${i}.bin`, request_id: id })),
    );
    await sleep(20);
    await worker.stop();
    h.workers.splice(h.workers.indexOf(worker), 1);
    await sending;
    const answeredBefore = device.inbox.length;
    await h.startWorker({ mqtt: mqttConfig });
    for (const id of ids) expect((await device.next((m) => m.body.request_id === id, 20_000)).body).toMatchObject({ success: true });
    expect(answeredBefore).toBeLessThan(200);
    expect(await h.prisma.file.count({ where: { filename: { startsWith: "drain/" } } })).toBe(200);
    await device.close();
    for (const w of h.workers.splice(0)) await w.stop();
  });

  it("keeps serving across a broker restart", async () => {
    await h.startWorker({
      mqtt: {
        url: h.broker.url,
        clientId: "ingest-broker-restart",
        protocolVersion: 5,
        sessionExpirySeconds: 3600,
        receiveMaximum: 100,
        reconnectPeriodMs: 200,
      },
    });
    await h.broker.stop();
    await h.broker.start();
    const device = await rawDevice(h.broker, "ROBOT-A");
    let answer: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 50 && !answer; attempt++) {
      answer = await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "after-restart.bin" }).catch(() => undefined);
    }
    expect(answer).toMatchObject({ success: true });
    await device.close();
    for (const w of h.workers.splice(0)) await w.stop();
  });
});

describe("dependencies down", () => {
  it("answers 503 database_unavailable while PostgreSQL is unreachable, and recovers by itself", async () => {
    const url = new URL(h.db.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    await h.startWorker({
      databaseUrl: url.toString(),
      mqtt: { url: h.broker.url, clientId: "ingest-dbdown", protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 100 },
    });
    const device = await rawDevice(h.broker, "ROBOT-A");
    expect(await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "db-1.bin" })).toMatchObject({ success: true });

    await proxy.down();
    const refused = await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "db-2.bin" });
    expect(refused).toMatchObject({ success: false, status: 503, code: "database_unavailable" });
    const health = await fetch(`http://127.0.0.1:${h.httpPort}/healthz`);
    expect(health.status).toBe(503);

    await proxy.up();
    expect(await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "db-2.bin" })).toMatchObject({ success: true });
    await device.close();
    for (const w of h.workers.splice(0)) await w.stop();
    await proxy.close();
  });

  it("answers 503 storage_unavailable when storage cannot be reached", async () => {
    const deadPort = await freePort();
    const store = createStore({
      backend: "s3",
      bucket: "fleetdrop",
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${deadPort}`,
      forcePathStyle: true,
      accessKeyId: "k",
      secretAccessKey: "s",
    });
    const worker = createIngestWorker({
      config: {
        databaseUrl: h.db.url,
        dbPoolSize: 4,
        mqtt: { url: h.broker.url, clientId: "ingest-s3down", protocolVersion: 5, sessionExpirySeconds: 60, receiveMaximum: 100 },
        topicPrefix: "fleetdrop",
        maxUploadMb: 100,
        uploadExpiresInSeconds: 3600,
        http: null,
        sweepIntervalMs: 3_600_000,
      },
      logger: pino({ level: "silent" }),
      store,
    });
    await worker.start();
    const device = await rawDevice(h.broker, "ROBOT-A");
    const form = await device.ask("file_upload/request", { session_id: h.seed.openA, filename: "s3.bin" });
    expect(form).toMatchObject({ success: true });
    expect(String(form.url)).toContain(`127.0.0.1:${deadPort}`);
    expect(await device.ask("file_upload/complete", { object_key: form.object_key })).toMatchObject({
      status: 503,
      code: "storage_unavailable",
    });
    await device.close();
    await worker.stop();
  });
});
