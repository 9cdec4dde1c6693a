import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentQueue } from "./queue";
import { ReadinessTracker } from "./readiness";
import { createBandwidthLimiter, msUntilOpen, parseWindow, uploadsAllowed } from "./schedule";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-agent-queue-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string, extra: Partial<Parameters<AgentQueue["offer"]>[0]> = {}) => ({
  rule: "logs",
  path: `/data/${name}`,
  name,
  size: 10,
  mtimeMs: 1000,
  priority: 0,
  readyAt: 5000,
  sessionKey: "folder:logs",
  ...extra,
});

describe("the durable queue", () => {
  it("orders by priority, then by when files became ready, and skips entries backing off", async () => {
    const queue = await AgentQueue.load(dir);
    queue.offer(file("video.mcap", { priority: 0, readyAt: 1 }));
    queue.offer(file("b.log", { priority: 10, readyAt: 3 }));
    const a = queue.offer(file("a.log", { priority: 10, readyAt: 2 }))!;
    expect(queue.next(10)!.name).toBe("a.log");
    queue.update(a, { nextAttemptAt: 100 });
    expect(queue.next(10)!.name).toBe("b.log");
    expect(queue.nextAttemptAt()).toBe(1);
    expect(queue.backlog()).toEqual({ files: 3, bytes: 30, oldestReadyAt: 1 });
  });

  it("survives a restart, does not queue a version it has done, and replaces a new version of it", async () => {
    const queue = await AgentQueue.load(dir);
    const entry = queue.offer(file("a.log"))!;
    queue.update(entry, { status: "done", started: true });
    queue.sessions.set("folder:logs", { id: 7, generation: 0 });
    await queue.save();
    const again = await AgentQueue.load(dir);
    expect(again.get("logs", "/data/a.log")).toMatchObject({ status: "done" });
    expect(again.sessions.get("folder:logs")).toEqual({ id: 7, generation: 0 });
    expect(again.offer(file("a.log"))).toBeNull();
    expect(again.backlog().files).toBe(0);
    expect(again.offer(file("a.log", { size: 20, mtimeMs: 2000 }))).toMatchObject({ status: "waiting", overwrite: true });
  });

  it("keeps confirmed files in an append-only log: a crash before the rewrite does not send them again; removals stick", async () => {
    const queue = await AgentQueue.load(dir);
    const a = queue.offer(file("a.log"))!;
    const b = queue.offer(file("b.log"))!;
    await queue.save();
    const waitingBoth = await readFile(queue.file, "utf8");
    queue.update(a, { status: "done", doneAt: 9 });
    queue.update(b, { status: "done", doneAt: 9 });
    queue.remove(b);
    await queue.save();
    // As if the power went after done.jsonl was appended, before queue.json was replaced.
    await writeFile(queue.file, waitingBoth);
    const again = await AgentQueue.load(dir);
    expect(again.get("logs", "/data/a.log")).toMatchObject({ status: "done" });
    expect(again.get("logs", "/data/b.log")).toMatchObject({ status: "waiting" });
    expect(again.backlog().files).toBe(1);
    const fresh = await AgentQueue.load(dir);
    expect((await readFile(fresh.doneFile, "utf8")).trim().split("\n")).toHaveLength(3);
  });

  it("writes atomically: no temporary file is left, and a failed write keeps the previous version and stays dirty", async () => {
    const queue = await AgentQueue.load(dir);
    queue.offer(file("a.log"));
    await queue.save();
    const before = await readFile(queue.file, "utf8");
    expect(await readdir(dir)).toEqual(["queue.json"]);
    queue.offer(file("b.log"));
    await rm(dir, { recursive: true });
    await writeFile(dir, "a file where the folder was");
    await expect(queue.save()).rejects.toMatchObject({ code: "ENOTDIR" });
    expect(queue.isDirty).toBe(true);
    await rm(dir);
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dir);
    await queue.save();
    expect(JSON.parse(await readFile(queue.file, "utf8")).entries).toHaveLength(2);
    expect(JSON.parse(before).entries).toHaveLength(1);
  });
});

describe("readiness", () => {
  it("unchanged for N seconds: by the file's mtime, or by what the agent saw when the mtime is in the future", () => {
    const tracker = new ReadinessTracker({ stableSeconds: 5 });
    expect(tracker.observe("/f", "f", { size: 1, mtimeMs: 0 }, 10_000)).toEqual({ state: "ready" });
    expect(tracker.observe("/g", "g", { size: 1, mtimeMs: 9_000 }, 10_000)).toEqual({ state: "wait", at: 14_000 });
    // Still growing at 12 s: the clock starts again from its new mtime.
    expect(tracker.observe("/g", "g", { size: 2, mtimeMs: 12_000 }, 12_000)).toEqual({ state: "wait", at: 17_000 });
    expect(tracker.observe("/g", "g", { size: 2, mtimeMs: 12_000 }, 17_000)).toEqual({ state: "ready" });
    // A clock that jumped back: mtime an hour ahead; ready 5 s after the agent first saw it unchanged.
    expect(tracker.observe("/h", "h", { size: 1, mtimeMs: 3_600_000 }, 20_000)).toEqual({ state: "wait", at: 25_000 });
    expect(tracker.observe("/h", "h", { size: 1, mtimeMs: 3_600_000 }, 25_000)).toEqual({ state: "ready" });
  });

  it("renamed from a temporary name: final names at once, temporary names never", () => {
    const tracker = new ReadinessTracker({ renamedFrom: ["*.part", ".*"] });
    expect(tracker.observe("/a.mcap.part", "a.mcap.part", { size: 1, mtimeMs: 0 }, 0)).toEqual({ state: "ignore" });
    expect(tracker.observe("/.a.mcap", "sub/.a.mcap", { size: 1, mtimeMs: 0 }, 0)).toEqual({ state: "ignore" });
    expect(tracker.observe("/a.mcap", "a.mcap", { size: 1, mtimeMs: Date.now() }, 0)).toEqual({ state: "ready" });
  });
});

describe("windows and the bandwidth cap", () => {
  it("windows over midnight, and how long until one opens", () => {
    const night = [parseWindow("22:00-06:00")];
    const at = (h: number, m = 0) => new Date(2026, 11, 7, h, m, 0, 0);
    expect(uploadsAllowed(night, at(23))).toBe(true);
    expect(uploadsAllowed(night, at(5, 59))).toBe(true);
    expect(uploadsAllowed(night, at(6))).toBe(false);
    expect(msUntilOpen(night, at(21, 30))).toBe(30 * 60_000);
    expect(msUntilOpen(night, at(23))).toBe(0);
    expect(uploadsAllowed([], at(12))).toBe(true);
    expect(() => parseWindow("6-7")).toThrow(/not a window/);
  });

  it("holds the cap over time with an injected clock", async () => {
    let now = 0;
    const slept: number[] = [];
    const take = createBandwidthLimiter(1000, {
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    })!;
    for (let i = 0; i < 5; i++) await take(1000);
    // One second of burst, then a second per 1000 bytes.
    expect(now).toBe(4000);
    expect(slept).toEqual([1000, 1000, 1000, 1000]);
    expect(createBandwidthLimiter(undefined)).toBeUndefined();
  });
});
