import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectDevice } from "../support/sdk-device";
import { expect, test } from "../support/fixtures";

test("an admin drops a config file into a device's folder; the device downloads it and the fetch is listed", async ({
  page,
  signIn,
  world,
  keepScreenshot,
}) => {
  await signIn("admin");
  await page.goto(`/p/${world.project.slug}/stores`);
  await page.getByRole("navigation", { name: "Stores" }).getByRole("link", { name: "config" }).click();
  await page.getByRole("navigation", { name: "Device" }).getByRole("link", { name: world.device.serial }).click();
  // Drop only once the device's folder is shown (another device's folder may be the default).
  await expect(page.locator(".dropzone")).toContainText(`config/${world.device.serial}/`);

  // Drag and drop: a real drop event carrying a file.
  const content = `max_speed: 1.5\nupdated: ${Date.now()}\n`;
  const dataTransfer = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], "robot.yaml", { type: "application/yaml" }));
    return transfer;
  }, content);
  await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer });
  const upload = page.getByRole("list", { name: "Uploads" }).getByRole("listitem").filter({ hasText: "robot.yaml" });
  await expect(upload.getByText("Uploaded")).toBeVisible({ timeout: 15_000 });
  await expect(upload.getByRole("progressbar")).toHaveAttribute("value", String(Buffer.byteLength(content)));
  const table = page.getByRole("table", { name: "Files in config" });
  await expect(table.getByRole("row").filter({ hasText: "robot.yaml" })).toBeVisible();
  await keepScreenshot("13-stores");

  // The device fetches it with file_download/request (real SDK, worker, fs store).
  const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-e2e-dl-"));
  const device = await connectDevice(world.device.serial);
  try {
    const result = await device.download({ store: "config", path: "robot.yaml", to: path.join(dir, "robot.yaml") });
    expect(await readFile(result.path, "utf8")).toBe(content);
  } finally {
    await device.close();
    await rm(dir, { recursive: true, force: true });
  }
  await page.reload();
  await expect(
    page.getByRole("table", { name: "Fetched by devices" }).getByRole("row").filter({ hasText: "robot.yaml" }).first(),
  ).toContainText(world.device.serial);

  // Delete it: the device now gets "not found".
  await table.getByRole("row").filter({ hasText: "robot.yaml" }).getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete file" }).click();
  await expect(page.getByRole("table", { name: "Files in config" })).toHaveCount(0);
  const again = await connectDevice(world.device.serial);
  try {
    await expect(again.requestDownload({ store: "config", path: "robot.yaml" })).rejects.toMatchObject({ code: "object_not_found" });
  } finally {
    await again.close();
  }
});

test("members do not see stores; shared stores are read-only for project admins", async ({ page, signIn, world }) => {
  await signIn("member");
  const response = await page.goto(`/p/${world.project.slug}/stores`);
  expect(response?.status()).toBe(403);
  await page.context().clearCookies();
  await signIn("admin"); // also a platform administrator in the e2e world
  await page.goto(`/p/${world.project.slug}/stores?store=apps`);
  await expect(page.locator(".dropzone")).toBeVisible();
});
