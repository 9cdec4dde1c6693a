import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, fileRow, test } from "../support/fixtures";
import type { TWorld } from "../support/world";

/** The pages an admin sees, for the checks every page must pass. */
function mainPages(world: TWorld): [string, string][] {
  const p = `/p/${world.project.slug}`;
  return [
    ["overview", p],
    ["sessions", `${p}/sessions`],
    ["session", `${p}/sessions/${world.session.id}`],
    ["devices", `${p}/devices`],
    ["device", `${p}/devices/${world.device.serial}`],
    ["commands", `${p}/devices/${world.device.serial}/commands`],
    ["members", `${p}/members`],
    ["audit", `${p}/audit`],
    ["stores", `${p}/stores`],
    ["streams", `${p}/streams`],
    ["api tokens", `${p}/api-tokens`],
    ["webhooks", `${p}/webhooks`],
    ["retention", `${p}/retention`],
    ["admin", "/admin"],
    ["account", "/account"],
  ];
}

async function fileHref(page: Page, world: TWorld, filename: string): Promise<string> {
  const response = await page.request.get(
    `/api/p/${world.project.slug}/sessions/${world.session.id}/files?q=${encodeURIComponent(filename)}`,
  );
  const id = ((await response.json()) as { rows: { id: string; filename: string }[] }).rows.find((r) => r.filename === filename)!.id;
  return `/p/${world.project.slug}/sessions/${world.session.id}/files/${id}`;
}

test.describe("the dashboard's finish", () => {
  test("every page passes axe with no serious or critical violation, shows no emoji, and fits a phone", async ({
    page,
    signIn,
    world,
    prisma,
  }) => {
    test.setTimeout(420_000);
    // A target with a long unbroken name: its card must wrap it, not scroll sideways.
    const project = await prisma.project.findUniqueOrThrow({ where: { slug: world.project.slug }, select: { id: true } });
    await prisma.auditLog.create({
      data: {
        projectId: project.id,
        actorType: "device",
        actorLabel: world.device.serial,
        action: "store.get",
        targetType: "store_object",
        targetId: `config:devices/${world.device.serial}/${"verylongconfigurationfilename".repeat(3)}.yaml`,
        ip: "::ffff:127.0.0.1",
      },
    });
    await signIn("admin");
    const pages = [
      ...mainPages(world),
      ["file", await fileHref(page, world, "logs/planner.log")] as [string, string],
      ["not found", `/p/${world.project.slug}/sessions/999999`] as [string, string],
    ];
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      for (const [name, url] of pages) {
        await page.goto(url);
        await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
        const results = await new AxeBuilder({ page }).analyze();
        const bad = results.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
        expect(bad, `${name} at ${width} px`).toEqual([]);
        const text = await page.locator("body").innerText();
        expect(text.match(/[\p{Extended_Pictographic}\u{FE0F}]/gu), `emoji on ${name}`).toBeNull();
        if (width === 390) {
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(1);
        }
      }
    }
    // The navigation's icons are SVGs (lucide), not characters.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`/p/${world.project.slug}/sessions`);
    const nav = page.getByRole("navigation", { name: "Project" });
    await expect(nav.locator("a svg")).toHaveCount(10);
  });

  test("on a phone every table shows all its columns: the files' State and Download, the sessions' State", async ({
    page,
    signIn,
    world,
    keepScreenshot,
  }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    const row = fileRow(page, "mission.json");
    await expect(row.getByText("Uploaded", { exact: true })).toBeVisible();
    const download = row.getByRole("link", { name: "Download mission.json" });
    await expect(download).toBeVisible();
    for (const element of [row.getByText("Uploaded", { exact: true }), download, row.locator('td[data-label="State"]')]) {
      const box = (await element.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await keepScreenshot("13-phone-files");

    await page.goto(`/p/${world.project.slug}/sessions`);
    const session = page.getByRole("row").filter({ hasText: world.session.name });
    const state = session.locator('td[data-label="State"]');
    await expect(state).toBeVisible();
    await expect(state).toContainText("Open");
    // Each cell of a stacked row is labelled with its column's name.
    expect(await state.evaluate((td) => getComputedStyle(td, "::before").content)).toBe('"State"');
    const box = (await state.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  });

  test("sizes are IEC, counts are pluralised, a closed session is not live", async ({ page, signIn, world, prisma }) => {
    const closed = await prisma.session.findFirstOrThrow({
      where: { name: "Yesterday's run" },
      select: { id: true, device: { select: { serial: true } } },
    });
    // A 209,715,200-byte file: the device command line prints 200 MiB for it, and so must the dashboard.
    const big = await prisma.file.create({
      data: {
        sessionId: closed.id,
        filename: "big.bin",
        objectKey: `sessions/${closed.device.serial}/${closed.id}/big.bin`,
        contentType: "application/octet-stream",
        sizeLimit: 209_715_200n,
        size: 209_715_200n,
        state: "uploaded",
        uploadedAt: new Date(),
        expiresAt: new Date(Date.now() + 3_600_000),
      },
    });
    try {
      await signIn("admin");
      await page.goto(`/p/${world.project.slug}/sessions/${closed.id}`);
      await expect(fileRow(page, "big.bin")).toContainText("200 MiB");
      await expect(page.locator(".stat").filter({ hasText: "Total size" })).toContainText("200 MiB");
      // The session is closed: its header says so and the files list does not claim to be live.
      await expect(page.getByRole("heading", { level: 1 })).toContainText("Closed");
      await expect(page.getByText("Live", { exact: true })).toHaveCount(0);
      // Its one file is "1 file" where the session's deletion is confirmed.
      await page.getByRole("button", { name: "Delete", exact: true }).click();
      await expect(page.getByRole("dialog")).toContainText("its 1 file (200 MiB)");
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
      await expect(page.getByText("Live", { exact: true })).toBeVisible();

      // One file in a folder is "1 file"; no "(s)" and no "1 files" anywhere.
      await expect(page.getByRole("row").filter({ hasText: "audio/" }).locator('td[data-label="State"]')).toHaveText("1 file");
      const body = await page.locator("body").innerText();
      expect(body).not.toMatch(/\b1 (files|sessions|accounts|entries|commands|devices)\b|\(s\)/);
      await page.goto("/admin");
      const users = await prisma.user.count();
      await expect(page.getByRole("region", { name: "Users", exact: true })).toContainText(
        `${users} ${users === 1 ? "account" : "accounts"}`,
      );
    } finally {
      await prisma.file.delete({ where: { id: big.id } });
    }
  });

  test("the audit log names its targets, reads its details and addresses, and filters by ISO dates", async ({
    page,
    signIn,
    world,
    prisma,
  }) => {
    await signIn("admin");
    // A real download from this machine, recorded by the app.
    const missionHref = await fileHref(page, world, "mission.json");
    const fileId = missionHref.split("/").pop()!;
    expect((await page.request.get(`/api/p/${world.project.slug}/files/${fileId}/download`)).status()).toBe(200);
    // Entries whose targets are a user and a session, from an IPv4 client seen through an IPv6 socket.
    const project = await prisma.project.findUniqueOrThrow({ where: { slug: world.project.slug }, select: { id: true } });
    const member = await prisma.user.findUniqueOrThrow({ where: { email: world.users.member.email }, select: { id: true } });
    await prisma.auditLog.createMany({
      data: [
        {
          projectId: project.id,
          actorType: "user",
          actorLabel: world.users.admin.email,
          action: "member.role",
          targetType: "user",
          targetId: member.id,
          details: { from: "member", to: "viewer" },
          ip: "::ffff:192.0.2.7",
        },
        {
          projectId: project.id,
          actorType: "user",
          actorLabel: world.users.admin.email,
          action: "session.close",
          targetType: "session",
          targetId: String(world.session.id),
          ip: "::1",
        },
      ],
    });

    await page.goto(`/p/${world.project.slug}/audit`);
    const table = page.getByRole("table", { name: "Audit log" });
    const download = table.getByRole("row").filter({ hasText: "file.download" }).filter({ hasText: "mission.json" }).first();
    await expect(download.locator('td[data-label="Target"]')).toContainText("mission.json");
    await expect(download.locator('td[data-label="Details"]')).toContainText("filename: mission.json");
    await expect(download.locator('td[data-label="Address"]')).toHaveText("this machine (localhost)");
    const role = table.getByRole("row").filter({ hasText: "member.role" }).first();
    await expect(role.locator('td[data-label="Target"]')).toContainText(world.users.member.email);
    await expect(role.locator('td[data-label="Details"]')).toContainText("from: member");
    await expect(role.locator('td[data-label="Address"]')).toHaveText("192.0.2.7");
    const close = table.getByRole("row").filter({ hasText: "session.close" }).first();
    await expect(close.locator('td[data-label="Target"]')).toContainText(world.session.name);
    await expect(close.locator('td[data-label="Address"]')).toHaveText("this machine (localhost)");
    // No raw ids or JSON in the table.
    const targets = await table.locator('td[data-label="Target"]').allInnerTexts();
    for (const t of targets) expect(t).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(await table.innerText()).not.toContain('{"');

    // Every time is a <time> whose tooltip gives the reader's local time and UTC.
    const when = table.locator("time").first();
    await expect(when).toHaveAttribute("title", /your time\n\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    expect(await when.innerText()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);

    // Date filters are typed as yyyy-mm-dd, like every date shown.
    const from = page.getByLabel("From");
    await expect(from).toHaveAttribute("placeholder", "yyyy-mm-dd");
    expect(await from.evaluate((input: HTMLInputElement) => input.type)).toBe("text");
    const today = new Date().toISOString().slice(0, 10);
    await from.fill(today);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(new RegExp(`from=${today}`));
    await expect(page.getByLabel("From")).toHaveValue(today);
    await expect(table.getByRole("row").filter({ hasText: "member.role" }).first()).toBeVisible();
    // A date that does not exist is ignored, not an error page.
    await page.goto(`/p/${world.project.slug}/audit?from=2026-02-31`);
    await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  });

  test("forms and details: admin checkbox by its label, roles uncut, ETags and text wrap, device shows when its credentials came", async ({
    page,
    signIn,
    world,
  }) => {
    await signIn("admin");
    await page.goto("/admin");
    // Outside a project the project's navigation stays.
    await expect(page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Sessions" })).toBeVisible();
    const checkbox = page.getByLabel("Platform administrator (creates projects and users)");
    const box = (await checkbox.boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(24);
    expect(box.height).toBeLessThanOrEqual(24);
    const label = (await page.locator('label[for="field-isAdmin"]').boundingBox())!;
    expect(label.x).toBeGreaterThan(box.x + box.width);
    expect(Math.abs(label.y - box.y)).toBeLessThan(12);
    await page.goto("/account");
    await expect(page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Devices" })).toBeVisible();

    await page.goto(`/p/${world.project.slug}/members`);
    const form = page.getByRole("form", { name: "Invite a member" });
    const options = await form.getByLabel("Role").locator("option").allInnerTexts();
    expect(options).toEqual(["Viewer", "Member", "Admin", "Owner"]);
    await form.getByLabel("Role").selectOption("admin");
    await expect(form.getByText("Also manages devices and sessions, reads the audit log")).toBeVisible();

    await page.goto(await fileHref(page, world, "logs/planner.log"));
    const etag = page.locator("dt", { hasText: "ETag" }).locator("xpath=following-sibling::dd[1]");
    expect(await etag.innerText()).not.toContain('"');
    const line = page.getByTestId("preview-text").locator("li").first();
    expect(await line.evaluate((li) => getComputedStyle(li).wordBreak)).not.toBe("break-all");

    await page.goto(`/p/${world.project.slug}/devices/${world.device.serial}`);
    const issued = page.locator("dt", { hasText: /^Issued$/ }).locator("xpath=following-sibling::dd[1]");
    await expect(issued).not.toHaveText("—");
    await expect(issued).not.toHaveText("");

    // The 404 inside the dashboard is a card, with no background of its own.
    await page.goto(`/p/${world.project.slug}/sessions/999999`);
    await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
    const gradients = await page
      .locator("#main *")
      .evaluateAll((elements) => elements.filter((e) => getComputedStyle(e).backgroundImage.includes("gradient")).length);
    expect(gradients).toBe(0);
  });

  test("tables end with their last row: no empty band (a scrollbar's or a minimum height's) under them", async ({
    page,
    signIn,
    world,
  }) => {
    await signIn("admin");
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 844 });
      for (const [url, name] of [
        [`/p/${world.project.slug}/sessions`, "Sessions"],
        [`/p/${world.project.slug}/devices`, "Devices"],
        [`/p/${world.project.slug}/members`, "Members"],
        ["/admin", "Users"],
      ] as const) {
        await page.goto(url);
        const table = page.getByRole("table", { name, exact: true });
        const wrap = table.locator("xpath=..");
        const [t, w] = [(await table.boundingBox())!, (await wrap.boundingBox())!];
        expect(w.height - t.height, `${name} at ${width} px: space under the table`).toBeLessThanOrEqual(1);
        expect(await wrap.evaluate((e) => e.scrollWidth - e.clientWidth), `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(0);
      }
    }
  });
});
