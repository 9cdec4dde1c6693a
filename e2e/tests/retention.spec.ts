/**
 * Retention in the dashboard, end to end: an admin marks a session keep, previews a rule (the
 * list shows exactly the old closed sessions, not the kept one), saves it, and the worker deletes
 * exactly the listed sessions in the background; pausing stops it. A rule for a per-device store
 * deletes exactly the old objects its preview listed.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "../support/fixtures";

test("an admin previews a rule, saves it, and the worker deletes exactly what the preview listed", async ({
  page,
  signIn,
  world,
  prisma,
}) => {
  test.setTimeout(120_000);
  const device = await prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-8" }, select: { id: true, projectId: true } });
  const old = (days: number) => new Date(Date.now() - days * 86_400_000);
  const make = (name: string, days: number) =>
    prisma.session.create({
      data: { deviceId: device.id, projectId: device.projectId, name, state: "closed", startedAt: old(days + 1), endedAt: old(days) },
      select: { id: true },
    });
  const doomed = [await make("Old survey A", 400), await make("Old survey B", 380)];
  const kept = await make("Old survey kept", 390);
  const recent = await make("Recent survey", 10);

  await signIn("admin");
  // Mark one keep on its session page.
  await page.goto(`/p/${world.project.slug}/sessions/${kept.id}`);
  await page.getByRole("button", { name: "Mark keep" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Mark keep" }).click();
  await expect(page.getByText("Keep", { exact: true })).toBeVisible();

  await page.goto(`/p/${world.project.slug}/retention`);
  await expect(page.getByRole("heading", { name: "Retention", level: 1 })).toBeVisible();
  await expect(page.getByText("No rules: everything is kept")).toBeVisible();
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

  await page.getByLabel("Rule", { exact: true }).selectOption("older_than_days");
  await page.getByLabel("N (days)").fill("365");
  await page.getByRole("button", { name: "Preview" }).click();
  const listed = page.getByRole("table", { name: "Sessions the rule deletes" });
  await expect(page.getByRole("heading", { name: /This rule deletes 2 sessions now/ })).toBeVisible();
  await expect(listed.getByRole("row")).toHaveCount(3);
  await expect(listed).toContainText("Old survey A");
  await expect(listed).toContainText("Old survey B");
  await expect(listed).not.toContainText("Old survey kept");

  // Changing the rule asks for a new preview before it can be saved.
  await page.getByLabel("N (days)").fill("5");
  await expect(page.getByText("preview it again before saving")).toBeVisible();
  await page.getByLabel("N (days)").fill("365");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.getByText("Rule saved")).toBeVisible();

  await expect
    .poll(
      async () =>
        (await prisma.session.findMany({ where: { id: { in: [...doomed, kept, recent].map((s) => s.id) } }, select: { id: true } })).length,
      {
        timeout: 30_000,
      },
    )
    .toBe(2);
  const left = await prisma.session.findMany({ where: { id: { in: [...doomed, kept, recent].map((s) => s.id) } }, select: { id: true } });
  expect(left.map((s) => s.id).sort((a, b) => a - b)).toEqual([kept.id, recent.id].sort((a, b) => a - b));
  expect(await prisma.auditLog.count({ where: { action: "retention.delete", targetId: { in: doomed.map((s) => String(s.id)) } } })).toBe(2);

  await page.reload();
  const rules = page.getByRole("table", { name: "Retention rules" });
  await expect(rules).toContainText("2 sessions");
  await rules.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Pause" }).click();
  await expect(rules).toContainText("Paused");
  const later = await make("Old survey C", 500);
  await page.waitForTimeout(5000);
  expect(await prisma.session.count({ where: { id: later.id } })).toBe(1);
  await rules.getByRole("button", { name: "Delete rule" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete rule" }).click();
  await expect(page.getByText("No rules: everything is kept")).toBeVisible();
});

test("a rule for a store deletes exactly the old objects of the project's device folders it previewed", async ({
  page,
  signIn,
  world,
  prisma,
  store,
}) => {
  test.setTimeout(120_000);
  // The named stores share the sessions store's bucket, each under its own prefix (docs/stores-and-commands.md).
  const put = async (key: string, ageDays: number) => {
    await store.put(`status/ROBOT-8/retention-e2e/${key}`, `{"n":1}`, { contentType: "application/json" });
    const meta = path.join(process.env.FLEETDROP_E2E_STORE_DIR!, "fleetdrop", "meta", "status", "ROBOT-8", "retention-e2e", key);
    const data = JSON.parse(await readFile(meta, "utf8")) as { lastModified: string };
    data.lastModified = new Date(Date.now() - ageDays * 86_400_000).toISOString();
    await writeFile(meta, JSON.stringify(data));
  };
  await put("old-report.json", 100);
  await put("fresh-report.json", 1);

  await signIn("admin");
  await page.goto(`/p/${world.project.slug}/retention`);
  await page.getByLabel("Applies to").selectOption({ label: "The status store (objects in device folders)" });
  // A store keeps no sessions.
  await page.getByLabel("Rule", { exact: true }).selectOption("keep_last_sessions");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByText("A store keeps no sessions")).toBeVisible();
  await page.getByLabel("Rule", { exact: true }).selectOption("older_than_days");
  await page.getByLabel("N (days)").fill("30");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByRole("heading", { name: /This rule deletes 1 object of the status store now/ })).toBeVisible();
  const listed = page.getByRole("table", { name: "Objects the rule deletes" });
  await expect(listed).toContainText("retention-e2e/old-report.json");
  await expect(listed).not.toContainText("fresh-report.json");
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.getByText("Rule saved")).toBeVisible();

  await expect.poll(async () => store.head("status/ROBOT-8/retention-e2e/old-report.json"), { timeout: 30_000 }).toBeNull();
  expect(await store.head("status/ROBOT-8/retention-e2e/fresh-report.json")).not.toBeNull();
  const rule = await prisma.retentionRule.findFirstOrThrow({ where: { project: { slug: world.project.slug }, store: "status" } });
  const audit = await prisma.auditLog.findMany({ where: { action: "retention.delete_objects", targetId: rule.id } });
  expect(audit.flatMap((row) => (row.details as { objects: { path: string }[] }).objects.map((o) => o.path))).toEqual([
    "retention-e2e/old-report.json",
  ]);
  await page.reload();
  const rules = page.getByRole("table", { name: "Retention rules" });
  await expect(rules).toContainText("Delete objects of the status store older than 30 days");
  await expect(rules).toContainText("1 object");
  await rules.getByRole("button", { name: "Delete rule" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete rule" }).click();
  await expect(page.getByText("No rules: everything is kept")).toBeVisible();
});

test("members cannot open retention", async ({ page, signIn, world }) => {
  await signIn("member");
  const response = await page.goto(`/p/${world.project.slug}/retention`);
  expect(response?.status()).toBe(403);
});
