/**
 * Retention (docs/retention.md) on generated data in real PostgreSQL and the fs store: a run
 * deletes exactly the sessions the preview listed (objects and rows), never a kept or open one,
 * audits each, stops at a pause, and a run that crashes halfway is finished by the next.
 */
import { ADVISORY_LOCK } from "@fleetdrop/db/advisory-locks";
import { createPgPool } from "@fleetdrop/db/pool";
import { retentionPreviewQuery, type TRetentionRuleSpec } from "@fleetdrop/db/retention";
import { storeRetentionCandidates } from "@fleetdrop/shared/retention/store-objects";
import type { Store } from "@fleetdrop/storage/store";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProjectRetention } from "../src/retention/run";
import { createHarness, type THarness } from "./harness";

let h: THarness;
let pool: ReturnType<typeof createPgPool>;
const log = pino({ level: "silent" });
const DAY = 86_400_000;

type TGenerated = { id: number; keys: string[] };

/** Sessions of `serial` ended `ageDays` ago (or open), each with `files` stored objects. */
async function generate(
  serial: string,
  specs: { ageDays: number; open?: boolean; keep?: boolean; files?: number }[],
): Promise<TGenerated[]> {
  const device = await h.prisma.device.findUniqueOrThrow({ where: { serial } });
  const out: TGenerated[] = [];
  for (const spec of specs) {
    const at = new Date(Date.now() - spec.ageDays * DAY);
    const session = await h.prisma.session.create({
      data: {
        deviceId: device.id,
        projectId: device.projectId,
        name: `gen-${spec.ageDays}`,
        state: spec.open ? "open" : "closed",
        keep: spec.keep ?? false,
        startedAt: new Date(at.getTime() - 3600_000),
        endedAt: spec.open ? null : at,
      },
    });
    const keys: string[] = [];
    for (let i = 0; i < (spec.files ?? 2); i++) {
      const key = `sessions/${serial}/${session.id}/f${i}.bin`;
      const info = await h.store.put(key, `data-${session.id}-${i}`, { contentType: "application/octet-stream" });
      await h.prisma.file.create({
        data: {
          sessionId: session.id,
          filename: `f${i}.bin`,
          objectKey: key,
          contentType: "application/octet-stream",
          sizeLimit: 1000,
          state: "uploaded",
          size: info.size,
          etag: info.etag,
          expiresAt: new Date(),
          uploadedAt: at,
        },
      });
      keys.push(key);
    }
    out.push({ id: session.id, keys });
  }
  return out;
}

async function preview(rule: TRetentionRuleSpec): Promise<number[]> {
  const query = retentionPreviewQuery(h.seed.projectId, rule, 10_000);
  return (await pool.query<{ id: number }>(query.text, query.values)).rows.map((row) => row.id);
}

const byNumber = (x: number, y: number) => x - y;
const sessionIds = async () => (await h.prisma.session.findMany({ select: { id: true } })).map((s) => s.id).sort(byNumber);
const exists = async (key: string) => (await h.store.head(key)) !== null;

beforeAll(async () => {
  h = await createHarness("retention");
  pool = createPgPool({ databaseUrl: h.db.url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await h?.close();
});

describe("retention", () => {
  it("deletes exactly what the preview listed, objects and rows; keeps kept and open sessions; audits; stops when paused", async () => {
    const a = await generate("ROBOT-A", [
      { ageDays: 40 },
      { ageDays: 35, keep: true },
      { ageDays: 31, files: 3 },
      { ageDays: 45, open: true },
      { ageDays: 10 },
      { ageDays: 1 },
    ]);
    const b = await generate("ROBOT-B", [{ ageDays: 60, files: 0 }, { ageDays: 29 }, { ageDays: 90 }]);
    const rule = { kind: "older_than_days" as const, value: 30 };
    const listed = await preview(rule);
    expect(listed.sort(byNumber)).toEqual([a[0]!.id, a[2]!.id, b[0]!.id, b[2]!.id].sort(byNumber));

    const before = await sessionIds();
    const saved = await h.prisma.retentionRule.create({
      data: { projectId: h.seed.projectId, kind: rule.kind, value: rule.value, paused: true },
    });
    // Paused: nothing happens.
    expect(await runProjectRetention({ pool, store: h.store, projectId: h.seed.projectId, batchSize: 3, log })).toEqual({
      sessions: 0,
      files: 0,
      bytes: 0,
    });
    expect(await sessionIds()).toEqual(before);

    await h.prisma.retentionRule.update({ where: { id: saved.id }, data: { paused: false } });
    const result = await runProjectRetention({ pool, store: h.store, projectId: h.seed.projectId, batchSize: 3, log });
    expect(result).toMatchObject({ sessions: 4, files: 7 });
    expect(await sessionIds()).toEqual(before.filter((id) => !listed.includes(id)));
    for (const session of [...a, ...b]) {
      for (const key of session.keys) expect(await exists(key), key).toBe(!listed.includes(session.id));
    }
    expect(await h.prisma.file.count({ where: { sessionId: { in: listed } } })).toBe(0);
    const audit = await h.prisma.auditLog.findMany({ where: { action: "retention.delete" } });
    expect(audit.map((row) => Number(row.targetId)).sort(byNumber)).toEqual([...listed].sort(byNumber));
    const after = await h.prisma.retentionRule.findUniqueOrThrow({ where: { id: saved.id } });
    expect(after).toMatchObject({ deletedSessions: 4n, deletedFiles: 7n });
    expect(await preview(rule)).toEqual([]);
    await h.prisma.retentionRule.delete({ where: { id: saved.id } });
  });

  it("keeps the last N sessions per device, as previewed", async () => {
    await h.prisma.session.deleteMany({});
    const a = await generate("ROBOT-A", [{ ageDays: 5 }, { ageDays: 4, keep: true }, { ageDays: 3 }, { ageDays: 2 }, { ageDays: 1 }]);
    const b = await generate("ROBOT-B", [{ ageDays: 5 }, { ageDays: 1 }]);
    const rule = { kind: "keep_last_sessions" as const, value: 2 };
    const listed = await preview(rule);
    // A's two newest stay, the kept one stays; B has only two.
    expect(listed.sort(byNumber)).toEqual([a[0]!.id, a[2]!.id].sort(byNumber));
    await h.prisma.retentionRule.create({ data: { projectId: h.seed.projectId, ...rule } });
    await runProjectRetention({ pool, store: h.store, projectId: h.seed.projectId, batchSize: 10, log });
    expect(await sessionIds()).toEqual([a[1]!.id, a[3]!.id, a[4]!.id, b[0]!.id, b[1]!.id].sort(byNumber));
    await h.prisma.retentionRule.deleteMany({});
  });

  it("finishes on the next run what a run that crashed while deleting objects had marked", async () => {
    await h.prisma.session.deleteMany({});
    const a = await generate("ROBOT-A", [{ ageDays: 50, files: 4 }, { ageDays: 40, files: 4 }, { ageDays: 1 }]);
    await h.prisma.retentionRule.create({ data: { projectId: h.seed.projectId, kind: "older_than_days", value: 30 } });
    let deletions = 0;
    const failing: Store = Object.assign(Object.create(h.store) as Store, {
      async delete(key: string) {
        if (++deletions > 3) throw new Error("storage went away");
        await h.store.delete(key);
      },
    });
    await expect(runProjectRetention({ pool, store: failing, projectId: h.seed.projectId, batchSize: 10, log })).rejects.toThrow(
      "storage went away",
    );
    // Halfway: some objects are gone, and every session whose object is gone is marked deleting.
    const marked = await h.prisma.session.findMany({ where: { deletingAt: { not: null } }, select: { id: true } });
    expect(marked.map((s) => s.id).sort(byNumber)).toEqual([a[0]!.id, a[1]!.id].sort(byNumber));
    const gone = (await Promise.all([...a[0]!.keys, ...a[1]!.keys].map(exists))).filter((present) => !present);
    expect(gone.length).toBeGreaterThan(0);
    expect((await h.prisma.retentionRule.findFirstOrThrow()).lastError).toBe("storage went away");

    await runProjectRetention({ pool, store: h.store, projectId: h.seed.projectId, batchSize: 10, log });
    expect(await sessionIds()).toEqual([a[2]!.id]);
    for (const key of [...a[0]!.keys, ...a[1]!.keys]) expect(await exists(key)).toBe(false);
    expect(await exists(a[2]!.keys[0]!)).toBe(true);
  });

  it("lets one run at a time work on a project", async () => {
    const holder = await pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1, hashtext($2))", [ADVISORY_LOCK.retention, h.seed.projectId]);
      expect(await runProjectRetention({ pool, store: h.store, projectId: h.seed.projectId, batchSize: 10, log })).toBeNull();
    } finally {
      await holder.query("SELECT pg_advisory_unlock_all()");
      holder.release();
    }
  });
});

describe("a rule for a store", () => {
  /** Puts an object into a named store and dates it `ageDays` back (the fs store's own metadata file says when it was written). */
  async function putAged(storeName: string, key: string, ageDays: number): Promise<void> {
    const entry = h.namedStores.get(storeName)!;
    await entry.store.put(key, `object ${key}`, { contentType: "application/json" });
    const metaPath = path.join(h.storeDir, "fleetdrop", "meta", storeName, key);
    const meta = JSON.parse(await readFile(metaPath, "utf8")) as { lastModified: string };
    meta.lastModified = new Date(Date.now() - ageDays * DAY).toISOString();
    await writeFile(metaPath, JSON.stringify(meta));
  }

  it("deletes exactly the objects of the project's device folders its preview listed, in batches, audited", async () => {
    const status = h.namedStores.get("status")!;
    const objects: [string, number][] = [
      ["ROBOT-A/monitor/a-old.json", 20],
      ["ROBOT-A/monitor/b-old.json", 9],
      ["ROBOT-A/monitor/c-new.json", 2],
      ["ROBOT-B/monitor/old.json", 30],
      ["ROBOT-B/new.json", 0],
      ["ROBOT-OFF/x/old.json", 12],
      // Not a device of the project: never the project's to delete.
      ["ROBOT-ELSEWHERE/old.json", 50],
    ];
    for (const [key, age] of objects) await putAged("status", key, age);
    // The same age in another store the rule does not name.
    await putAged("config", "ROBOT-A/robot.yaml", 40);

    const serials = (await h.prisma.device.findMany({ where: { projectId: h.seed.projectId }, select: { serial: true } })).map(
      (d) => d.serial,
    );
    const listed = await storeRetentionCandidates({ store: status.store, devices: serials, days: 7, now: new Date(), limit: 10_000 });
    expect(listed.map((o) => o.key)).toEqual([
      "ROBOT-A/monitor/a-old.json",
      "ROBOT-A/monitor/b-old.json",
      "ROBOT-B/monitor/old.json",
      "ROBOT-OFF/x/old.json",
    ]);

    const rule = await h.prisma.retentionRule.create({
      data: { projectId: h.seed.projectId, kind: "older_than_days", value: 7, store: "status" },
    });
    try {
      const result = await runProjectRetention({
        pool,
        store: h.store,
        namedStores: h.namedStores,
        projectId: h.seed.projectId,
        batchSize: 3,
        log,
      });
      expect(result).toMatchObject({ files: expect.any(Number) });
      for (const [key] of objects) {
        const gone = listed.some((o) => o.key === key);
        expect(await status.store.head(key), key).toEqual(gone ? null : expect.objectContaining({ key }));
      }
      expect(await h.namedStores.get("config")!.store.head("ROBOT-A/robot.yaml")).not.toBeNull();

      const audit = await h.prisma.auditLog.findMany({
        where: { action: "retention.delete_objects", targetId: rule.id },
        orderBy: { id: "asc" },
      });
      // Two batches of at most 3; together exactly the listed objects.
      expect(audit.length).toBe(2);
      const audited = audit.flatMap((row) => (row.details as { objects: { device: string; path: string; size: number }[] }).objects);
      expect(audited.map((o) => `${o.device}/${o.path}`)).toEqual(listed.map((o) => o.key));
      expect(audit[0]!.details).toMatchObject({ store: "status", rule: rule.id });
      const saved = await h.prisma.retentionRule.findUniqueOrThrow({ where: { id: rule.id } });
      expect(saved.deletedFiles).toBe(BigInt(listed.length));
      expect(saved.deletedBytes).toBe(BigInt(listed.reduce((sum, o) => sum + o.size, 0)));
      expect(saved.lastError).toBeNull();
    } finally {
      await h.prisma.retentionRule.delete({ where: { id: rule.id } });
    }
  });

  it("records a rule whose store is not configured as its last problem and deletes nothing", async () => {
    const rule = await h.prisma.retentionRule.create({
      data: { projectId: h.seed.projectId, kind: "older_than_days", value: 1, store: "gone" },
    });
    try {
      await runProjectRetention({ pool, store: h.store, namedStores: h.namedStores, projectId: h.seed.projectId, batchSize: 3, log });
      const saved = await h.prisma.retentionRule.findUniqueOrThrow({ where: { id: rule.id } });
      expect(saved.lastError).toBe("no per-device store named gone is configured");
      expect(saved.deletedFiles).toBe(0n);
    } finally {
      await h.prisma.retentionRule.delete({ where: { id: rule.id } });
    }
  });
});
