/**
 * Retention rules for a named store in the dashboard's domain functions: only per-device stores,
 * only "older than N days", one rule per kind and store beside the sessions' own, and a preview
 * that lists the old objects of the project's device folders only. Real PostgreSQL and fs store.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { env } from "@/env";
import { previewRetention, retentionStores, saveRetentionRule } from "@/server/retention/retention";
import { namedStore } from "@/server/stores/named-stores";
import { contextFor, makeDevice, makeProject, makeUser, prisma } from "./fixtures";

/** A `status` object dated `ageDays` back (the fs store's metadata file records when it was written). */
async function putAged(key: string, ageDays: number) {
  await namedStore("status").store.put(key, "{}", { contentType: "application/json" });
  const meta = path.join(env.FS_STORE_DIR, env.FS_BUCKET, "meta", "status", key);
  const data = JSON.parse(await readFile(meta, "utf8")) as { lastModified: string };
  data.lastModified = new Date(Date.now() - ageDays * 86_400_000).toISOString();
  await writeFile(meta, JSON.stringify(data));
}

describe("retention rules for a store", () => {
  it("preview the old objects of the project's device folders, save beside the sessions' rule, and refuse what cannot apply", async () => {
    const admin = await makeUser();
    const project = await makeProject([{ user: admin, role: "admin" }]);
    const ctx = contextFor(admin, project, "admin");
    const device = await makeDevice(project.id, `RET-${Date.now().toString(36)}`);
    const stranger = `OTHER-${Date.now().toString(36)}`;
    await putAged(`${device.serial}/svc/old.json`, 40);
    await putAged(`${device.serial}/svc/new.json`, 2);
    await putAged(`${stranger}/svc/old.json`, 40);

    expect(retentionStores()).toEqual(expect.arrayContaining(["config", "incoming", "status"]));
    expect(retentionStores()).not.toContain("apps");
    const preview = await previewRetention({ ctx, rule: { kind: "older_than_days", value: 30, store: "status" } });
    expect(preview).toMatchObject({ target: "store", store: "status", total: 1 });
    expect(preview.target === "store" && preview.objects.map((o) => [o.device, o.path])).toEqual([[device.serial, "svc/old.json"]]);

    await saveRetentionRule({ ctx, rule: { kind: "older_than_days", value: 30, store: "" } });
    await saveRetentionRule({ ctx, rule: { kind: "older_than_days", value: 30, store: "status" } });
    await saveRetentionRule({ ctx, rule: { kind: "older_than_days", value: 60, store: "status" } });
    const rules = await prisma().retentionRule.findMany({ where: { projectId: project.id }, orderBy: { store: "asc" } });
    expect(rules.map((r) => [r.store, r.value])).toEqual([
      ["", 30],
      ["status", 60],
    ]);

    await expect(saveRetentionRule({ ctx, rule: { kind: "older_than_days", value: 30, store: "apps" } })).rejects.toThrow(
      /Choose one of the per-device stores/,
    );
    await expect(saveRetentionRule({ ctx, rule: { kind: "keep_last_sessions", value: 3, store: "status" } })).rejects.toThrow(
      /A store keeps no sessions/,
    );
  });
});
