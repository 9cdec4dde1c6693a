import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { postForm } from "@fleetdrop/device/upload";
import { connectDevice } from "../support/sdk-device";
import { cameraFrame, makeLog } from "../support/sample-files";
import { expect, fileRow, test } from "../support/fixtures";

test.describe("browsing, previews and downloads", () => {
  test("sign in, browse to the session, see a file land live, preview and download it", async ({
    page,
    signIn,
    world,
    prisma,
    keepScreenshot,
  }) => {
    await signIn("member");
    await page.goto("/");
    // The project's landing page is its overview.
    await expect(page).toHaveURL(new RegExp(`/p/${world.project.slug}$`));
    await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
    await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Sessions" }).click();
    await expect(page).toHaveURL(new RegExp(`/p/${world.project.slug}/sessions`));
    await expect(page.getByRole("table", { name: "Sessions" })).toBeVisible();
    await keepScreenshot("02-sessions-list");

    await page.getByRole("link", { name: world.session.name }).click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText(world.session.name);
    await expect(page.getByRole("button", { name: "camera/" })).toBeVisible();
    await expect(fileRow(page, "mission.json")).toBeVisible();
    await keepScreenshot("03-session-files");

    // A device uploads a file while we look, through the real SDK, worker and fs store:
    // pending once the form is issued, uploaded once storage has it, without a reload.
    const filename = `live-${Date.now()}.log`;
    const body = makeLog(40);
    const stat = (label: string) =>
      page
        .locator(".stat")
        .filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) })
        .locator("dd");
    const filesBefore = Number((await stat("Files").innerText()).replace(/\D/g, ""));
    const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-e2e-upload-"));
    const device = await connectDevice(world.device.serial);
    try {
      const local = path.join(dir, filename);
      await writeFile(local, body);
      const form = await device.requestUpload({ sessionId: world.session.id, filename, contentType: "text/plain", sizeMb: 1 });
      await expect(fileRow(page, filename)).toBeVisible({ timeout: 15_000 });
      await expect(fileRow(page, filename).getByText("Pending")).toBeVisible();
      await postForm(form, { path: local, size: Buffer.byteLength(body), filename, contentType: "text/plain" });
      await expect(fileRow(page, filename).getByText("Uploaded")).toBeVisible({ timeout: 15_000 });
      // The session's totals follow the list without a reload.
      await expect(stat("Files")).toHaveText(String(filesBefore + 1), { timeout: 10_000 });
      await expect(stat("Pending uploads")).toHaveText("0");
    } finally {
      await device.close();
      await rm(dir, { recursive: true, force: true });
    }

    // Preview it.
    await fileRow(page, filename).getByRole("link", { name: filename, exact: true }).click();
    await expect(page.getByTestId("preview-text")).toBeVisible();
    await expect(page.getByTestId("preview-text")).toContainText(body.split("\n")[0]!);
    await expect(page.getByTestId("preview-text")).toContainText(body.split("\n")[39]!);

    // Download it and compare bytes.
    const downloadPromise = page.waitForEvent("download");
    await page.getByTestId("download-file").click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toBe(filename);
    expect(await readFile(await download.path(), "utf8")).toBe(body);

    // The download is in the audit log.
    const audit = await prisma.auditLog.findFirst({
      where: { action: "file.download", actorLabel: world.users.member.email, details: { path: ["filename"], equals: filename } },
    });
    expect(audit).not.toBeNull();
  });

  test("images get thumbnails and a lightbox; big logs show head and tail; JSON is pretty-printed", async ({
    page,
    signIn,
    world,
    keepScreenshot,
  }) => {
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}?path=camera/front/`);
    const row = fileRow(page, "camera/front/frame_0002.png");
    await expect(row.locator("img.thumb")).toBeVisible();
    await expect.poll(() => row.locator("img.thumb").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
    await row.getByRole("button", { name: /image viewer/ }).click();
    const lightbox = page.getByTestId("lightbox-image");
    await expect(lightbox).toBeVisible();
    await expect(page.getByText("(2 of 6)")).toBeVisible();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByText("(3 of 6)")).toBeVisible();
    await keepScreenshot("04-lightbox");
    await page.keyboard.press("Escape");
    await expect(lightbox).toBeHidden();

    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}?path=logs/`);
    await fileRow(page, "logs/system.log").getByRole("link", { name: "system.log", exact: true }).click();
    await expect(page.getByText(/showing the first 200 and the last 200 lines/)).toBeVisible();
    await expect(page.getByTestId("preview-text")).toContainText("[1] navigation");
    await expect(page.getByTestId("preview-text")).toContainText("[12000]");
    await expect(page.getByTestId("preview-text")).not.toContainText("[6000]");
    await keepScreenshot("05-log-preview");

    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    await fileRow(page, "mission.json").getByRole("link", { name: "mission.json", exact: true }).click();
    await expect(page.getByTestId("preview-json")).toContainText('"mission": "warehouse-loop"');

    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}?path=audio/`);
    await fileRow(page, "audio/alarm.wav").getByRole("link", { name: "alarm.wav", exact: true }).click();
    await expect(page.getByTestId("preview-audio")).toBeVisible();
    await expect.poll(() => page.getByTestId("preview-audio").evaluate((a: HTMLAudioElement) => a.duration)).toBeCloseTo(1, 1);
  });

  test("search, filter, sort and page through files; the session zip streams every file", async ({ page, signIn, world, prisma }) => {
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    await page.getByLabel(/Search all files/).fill("frame_000");
    await expect(page.locator('[data-testid="file-row"]')).toHaveCount(6);
    await page.getByLabel("Type").selectOption("text");
    await expect(page.getByText("No files match")).toBeVisible();
    await page.getByRole("button", { name: "Clear the filters" }).click();
    await expect(page.getByRole("button", { name: "camera/" })).toBeVisible();

    // Sort by size: largest first, then smallest first.
    const sizes = () =>
      page.locator('[data-testid="file-row"]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-size"))));
    await page.getByRole("button", { name: "Size" }).click();
    await expect(page.getByRole("columnheader", { name: /Size/ })).toHaveAttribute("aria-sort", "descending");
    await expect
      .poll(async () => {
        const s = await sizes();
        return s.length > 1 && s.every((v, i) => i === 0 || s[i - 1]! >= v);
      })
      .toBe(true);
    await page.getByRole("button", { name: "Size" }).click();
    await expect(page.getByRole("columnheader", { name: /Size/ })).toHaveAttribute("aria-sort", "ascending");
    await expect
      .poll(async () => {
        const s = await sizes();
        return s.length > 1 && s.every((v, i) => i === 0 || s[i - 1]! <= v);
      })
      .toBe(true);

    // Paging: 150 more frames in a folder of their own.
    await prisma.file.createMany({
      data: Array.from({ length: 150 }, (_, i) => ({
        sessionId: world.session.id,
        filename: `burst/img_${String(i).padStart(4, "0")}.png`,
        objectKey: `sessions/${world.device.serial}/${world.session.id}/burst/img_${String(i).padStart(4, "0")}.png`,
        contentType: "image/png",
        sizeLimit: 1n << 20n,
        state: "pending" as const,
        expiresAt: new Date(Date.now() + 3600_000),
      })),
    });
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}?path=burst/`);
    await expect(page.getByText(/1–100 of 150 files here/)).toBeVisible();
    await page.getByRole("button", { name: "Next →" }).click();
    await expect(page.getByText(/101–150 of 150 files here/)).toBeVisible();
    await expect(fileRow(page, "burst/img_0149.png")).toBeVisible();
    await prisma.file.deleteMany({ where: { sessionId: world.session.id, filename: { startsWith: "burst/" } } });

    const zip = await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/archive`);
    expect(zip.status()).toBe(200);
    expect(zip.headers()["content-type"]).toBe("application/zip");
    expect(zip.headers()["content-disposition"]).toContain(`${world.device.serial}-session-${world.session.id}.zip`);
    const bytes = await zip.body();
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("PK\u0003\u0004");
    const uploaded = await prisma.file.findMany({ where: { sessionId: world.session.id, state: "uploaded" }, select: { filename: true } });
    for (const f of uploaded) expect(bytes.includes(Buffer.from(f.filename)), f.filename).toBe(true);
    // The first frame is stored uncompressed, so its bytes are in the archive as they are.
    expect(bytes.includes(cameraFrame(1))).toBe(true);
  });
});
