/**
 * Scale-out on a real Mosquitto: two ingest workers in one shared subscription group split the
 * device requests, each answered once with no duplicate file rows; then one worker is killed
 * (SIGKILL in its own process: no drain, no DISCONNECT, requests left unacknowledged at the
 * broker and new ones still allocated to its session) in the middle of a burst, and every
 * request is still answered (the survivor drains the dead worker's session, peer-takeover.ts).
 */
import type { ChildProcess } from "node:child_process";
import { Prisma } from "@fleetdrop/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, rawDevice, sleep, type THarness } from "./harness";
import { childHandled, forkWorker } from "./support/child-worker";
import type { TIngestWorker, TIngestWorkerConfig } from "../src/worker";

let h: THarness;
let inProcess: TIngestWorker;
let child: ChildProcess;
const childExited = () => child.exitCode !== null || child.signalCode !== null;

function workerConfig(clientId: string): TIngestWorkerConfig {
  return {
    databaseUrl: h.db.url,
    dbPoolSize: 4,
    mqtt: { url: h.broker.url, clientId, protocolVersion: 5, sessionExpirySeconds: 3600, receiveMaximum: 200, sharedGroup: "ingest" },
    topicPrefix: "fleetdrop",
    maxUploadMb: 100,
    uploadExpiresInSeconds: 3600,
    http: null,
    sweepIntervalMs: 3_600_000,
  };
}

const startChildWorker = (clientId: string) => forkWorker(workerConfig(clientId), h.storeConfig);

async function handledInProcess(): Promise<number> {
  return (await inProcess.metrics.requests.get()).values.reduce((sum, value) => sum + value.value, 0);
}

type TDevice = Awaited<ReturnType<typeof rawDevice>>;

/** Publishes `count` upload requests per device without waiting for answers; returns their ids. */
async function burst(devices: { device: TDevice; sessionId: number }[], label: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    for (const [index, { device, sessionId }] of devices.entries()) {
      const requestId = `${label}-${index}-${i}`;
      ids.push(requestId);
      sends.push(
        device.send("file_upload/request", { session_id: sessionId, filename: `${label}/${i}.bin`, size_mb: 1, request_id: requestId }),
      );
    }
  }
  await Promise.all(sends);
  return ids;
}

/** Every answer per request id, across the devices' inboxes. */
function answers(devices: TDevice[]): Map<string, Record<string, unknown>[]> {
  const byId = new Map<string, Record<string, unknown>[]>();
  for (const device of devices) {
    for (const message of device.inbox) {
      const id = String(message.body.request_id);
      byId.set(id, [...(byId.get(id) ?? []), message.body]);
    }
  }
  return byId;
}

async function waitForAnswers(devices: TDevice[], ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = answers(devices);
    const missing = ids.filter((id) => !got.has(id));
    if (missing.length === 0) return got;
    if (Date.now() > deadline)
      throw new Error(`${missing.length} of ${ids.length} requests unanswered, e.g. ${missing.slice(0, 5).join(", ")}`);
    await sleep(25);
  }
}

async function duplicateFileRows(): Promise<number> {
  const rows = await h.prisma.$queryRaw<{ n: bigint }[]>(Prisma.sql`
    SELECT count(*) AS n FROM (SELECT session_id, filename FROM files GROUP BY session_id, filename HAVING count(*) > 1) d`);
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  h = await createHarness("shared-sub");
  inProcess = await h.startWorker({ ...workerConfig("ingest-in-process"), http: { host: "127.0.0.1", port: h.httpPort } });
  child = await startChildWorker("ingest-child");
});

afterAll(async () => {
  if (child && !childExited()) child.kill("SIGKILL");
  await h?.close();
});

describe("two workers on one shared subscription", () => {
  it("split the requests: each answered exactly once, by one of them, with one file row each", async () => {
    const a = await rawDevice(h.broker, h.seed.deviceA);
    const b = await rawDevice(h.broker, h.seed.deviceB);
    const ids = await burst(
      [
        { device: a, sessionId: h.seed.openA },
        { device: b, sessionId: h.seed.openB },
      ],
      "split",
      200,
    );
    const got = await waitForAnswers([a, b], ids, 30_000);
    await sleep(300); // a second answer would arrive by now
    const again = answers([a, b]);
    expect(ids.filter((id) => again.get(id)!.length !== 1)).toEqual([]);
    expect([...got.values()].every(([answer]) => answer!.status === 200)).toBe(true);

    const [mine, theirs] = [await handledInProcess(), await childHandled(child)];
    expect(mine + theirs).toBe(400);
    expect(mine).toBeGreaterThan(50);
    expect(theirs).toBeGreaterThan(50);
    expect(await h.prisma.file.count({ where: { filename: { startsWith: "split/" } } })).toBe(400);
    expect(await duplicateFileRows()).toBe(0);
    await a.close();
    await b.close();
  });

  it("loses no request when one worker is killed in the middle of a burst", async () => {
    const a = await rawDevice(h.broker, h.seed.deviceA);
    const b = await rawDevice(h.broker, h.seed.deviceB);
    const before = await childHandled(child);
    const devices = [
      { device: a, sessionId: h.seed.openA },
      { device: b, sessionId: h.seed.openB },
    ];
    const first = burst(devices, "kill", 300);
    // Kill the child once it has taken part in this burst (it then has requests in flight).
    const deadline = Date.now() + 20_000;
    while ((await childHandled(child)) - before < 40) {
      if (Date.now() > deadline) throw new Error("the child worker received no requests");
      await sleep(5);
    }
    child.kill("SIGKILL");
    const ids = await first;
    // And more after it died: Mosquitto still allocates some to the dead worker's session.
    ids.push(...(await burst(devices, "after", 50)));
    const got = await waitForAnswers([a, b], ids, 45_000);
    expect(childExited()).toBe(true);
    const failed = [...got.entries()].filter(([, list]) => list.some((answer) => answer.status !== 200));
    expect(failed).toEqual([]);
    expect(await h.prisma.file.count({ where: { filename: { startsWith: "kill/" } } })).toBe(600);
    expect(await h.prisma.file.count({ where: { filename: { startsWith: "after/" } } })).toBe(100);
    expect(await duplicateFileRows()).toBe(0);
    await a.close();
    await b.close();
  });

  it("keeps answering everything after a worker stops gracefully (scale-down, rolling restart)", async () => {
    child = await startChildWorker("ingest-child-2");
    const a = await rawDevice(h.broker, h.seed.deviceA);
    // Both serve; then the in-process worker drains and stops, leaving its persistent session behind.
    const warm = await burst([{ device: a, sessionId: h.seed.openA }], "warm", 50);
    await waitForAnswers([a], warm, 20_000);
    await inProcess.stop();
    const ids = await burst([{ device: a, sessionId: h.seed.openA }], "scaled-down", 200);
    const got = await waitForAnswers([a], ids, 30_000);
    expect([...got.values()].every((list) => list.every((answer) => answer.status === 200))).toBe(true);
    expect(await h.prisma.file.count({ where: { filename: { startsWith: "scaled-down/" } } })).toBe(200);
    await a.close();
  });
});
