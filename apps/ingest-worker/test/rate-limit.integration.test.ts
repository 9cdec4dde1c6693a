/**
 * Per-device rate limits on the real worker, Mosquitto and PostgreSQL. The limits' clock is a
 * number the test moves by hand: tokens come back only when the test says so.
 */
import { FleetdropDevice } from "@fleetdrop/device/client";
import { FleetdropError, RateLimitedError } from "@fleetdrop/device/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../src/rate-limit";
import { createHarness, rawDevice, type THarness } from "./harness";
import { randomFile, transferDevice } from "./transfer-device";

let h: THarness;
let clock = 0;

beforeAll(async () => {
  h = await createHarness("ratelimit");
  await h.startWorker(
    {
      rateLimits: {
        ...DEFAULT_RATE_LIMITS,
        session: { burst: 5, perSecond: 0.5 },
        segment: { burst: 4, perSecond: 1 },
      },
    },
    { now: () => clock },
  );
});

afterAll(async () => {
  await h?.close();
});

describe("a flooding device", () => {
  it("gets 429 rate_limited with retry_after past its burst; refused requests do nothing; other devices and kinds unaffected", async () => {
    const a = await rawDevice(h.broker, "ROBOT-A");
    const b = await rawDevice(h.broker, "ROBOT-B");
    try {
      const sessionsBefore = await h.prisma.session.count();
      const metadata = { notes: "x".repeat(6000) };
      const ids = Array.from({ length: 40 }, (_, i) => `flood-${i}`);
      await Promise.all(ids.map((id) => a.send("session/open", { name: "flood", metadata, request_id: id })));
      const answers = await Promise.all(ids.map(async (id) => (await a.next((m) => m.body.request_id === id)).body));
      const ok = answers.filter((answer) => answer.success === true);
      const refused = answers.filter((answer) => answer.success !== true);
      expect(ok).toHaveLength(5);
      expect(refused).toHaveLength(35);
      for (const answer of refused) expect(answer).toMatchObject({ success: false, status: 429, code: "rate_limited", retry_after: 2 });
      expect(await h.prisma.session.count()).toBe(sessionsBefore + 5);

      // Another device, and another kind of request of the same device, go through meanwhile.
      expect(await b.ask("session/open", { name: "normal" })).toMatchObject({ success: true, state: "open" });
      expect(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "during-flood.bin" })).toMatchObject({
        success: true,
      });

      // Once the bucket has a token again, the device is served.
      expect(await a.ask("session/open", { name: "later" })).toMatchObject({ status: 429, retry_after: 2 });
      clock += 2000;
      expect(await a.ask("session/open", { name: "later" })).toMatchObject({ success: true, name: "later" });

      // Every refused request was acknowledged: nothing is delivered again to a fresh worker.
      await h.workers[0]!.stop();
      h.workers.splice(0);
      a.inbox.length = 0;
      await h.startWorker(
        { rateLimits: { ...DEFAULT_RATE_LIMITS, session: { burst: 5, perSecond: 0.5 }, segment: { burst: 4, perSecond: 1 } } },
        { now: () => clock },
      );
      expect(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "after-restart.bin" })).toMatchObject({
        success: true,
      });
      expect(a.inbox.filter((m) => String(m.body.request_id).startsWith("flood-"))).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses segments over the limit with an answer naming the segment; the transfer completes once they are sent again", async () => {
    const device = await transferDevice(h.broker, "ROBOT-A");
    try {
      const { bytes, sha256 } = randomFile(8 * 1024);
      const init = await device.init("limited", { session_id: h.seed.openA, name: "limited.bin", size: bytes.length, checksum: sha256 });
      expect(init).toMatchObject({ success: true });
      for (let offset = 0; offset < bytes.length; offset += 1024)
        await device.segment("limited", offset, bytes.subarray(offset, offset + 1024));
      const refusals = [];
      for (let i = 0; i < 4; i++) refusals.push(await device.next((answer) => answer.command === "segment"));
      for (const refusal of refusals)
        expect(refusal).toMatchObject({ file_id: "limited", success: false, status: 429, code: "rate_limited", retry_after: 1 });
      expect(refusals.map((refusal) => refusal.offset).sort((x, y) => Number(x) - Number(y))).toEqual([4096, 5120, 6144, 7168]);

      clock += 4000;
      for (const refusal of refusals) {
        const offset = Number(refusal.offset);
        await device.segment("limited", offset, bytes.subarray(offset, offset + 1024));
      }
      expect(await device.fin("limited", bytes.length, sha256)).toMatchObject({ success: true, size: bytes.length });
    } finally {
      await device.close();
    }
  });

  it("session metadata is capped: 60 KB of it is refused with 413 metadata_too_large", async () => {
    const a = await rawDevice(h.broker, "ROBOT-B");
    try {
      clock += 60_000;
      expect(await a.ask("session/open", { metadata: { blob: "y".repeat(60_000) } })).toMatchObject({
        success: false,
        status: 413,
        code: "metadata_too_large",
      });
    } finally {
      await a.close();
    }
  });
});

describe("the device SDK", () => {
  it("waits retry_after and sends again, then succeeds; gives up with a clear error when told to", async () => {
    clock += 60_000;
    const waits: number[] = [];
    const device = await FleetdropDevice.connect({
      url: h.broker.url,
      deviceId: "ROBOT-B",
      timeoutMs: 5000,
      // The SDK's wait moves the worker's clock: no real time passes.
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
    });
    try {
      for (let i = 0; i < 5; i++) await device.openSession({ name: `burst ${i}` });
      expect(waits).toEqual([]);
      const opened = await device.openSession({ name: "after the wait" });
      expect(opened).toMatchObject({ name: "after the wait", state: "open" });
      expect(waits).toEqual([2000]);
    } finally {
      await device.close();
    }

    const impatient = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-B", timeoutMs: 5000, rateLimitRetries: 0 });
    try {
      const error = await impatient.openSession({ name: "no retries" }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toBeInstanceOf(FleetdropError);
      expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfterSeconds: 2, retryable: true });
      expect((error as Error).message).toMatch(/rate-limiting this device .*retry after 2 s.*gave up after 1 attempt/);
    } finally {
      await impatient.close();
    }
  });
});
