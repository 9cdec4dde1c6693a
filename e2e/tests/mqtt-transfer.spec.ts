import { createHash } from "node:crypto";
/**
 * File transfer over MQTT seen from the dashboard: a device without HTTPS sends a file over MQTT itself (real
 * SDK, worker, Mosquitto); it appears in the session live like any other upload, previews, and
 * its page shows the user_data the device attached.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectDevice } from "../support/sdk-device";
import { expect, fileRow, test } from "../support/fixtures";

test("a file sent over MQTT appears in its session with the device's user_data", async ({ page, signIn, world, keepScreenshot }) => {
  // Previews are file contents: a member's right, not a viewer's (docs/dashboard.md).
  await signIn("member");
  await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
  const filename = `mqtt-run-${Date.now()}.log`;
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} sent over MQTT in 16 KiB segments`).join("\n");
  const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-e2e-mqtt-"));
  const device = await connectDevice(world.device.serial);
  try {
    const local = path.join(dir, "run.log");
    await writeFile(local, lines);
    const result = await device.uploadOverMqtt({
      sessionId: world.session.id,
      path: local,
      filename,
      contentType: "text/plain",
      segmentSize: 16 * 1024,
      userData: { mission: "aisle-7", battery: 0.82 },
    });
    expect(result.size).toBe(Buffer.byteLength(lines));
  } finally {
    await device.close();
    await rm(dir, { recursive: true, force: true });
  }
  await expect(fileRow(page, filename).getByText("Uploaded")).toBeVisible({ timeout: 15_000 });
  await fileRow(page, filename).getByRole("link", { name: filename, exact: true }).click();
  await expect(page.getByTestId("preview-text")).toContainText("line 2999 sent over MQTT");
  await expect(page.getByTestId("file-user-data")).toContainText('"mission": "aisle-7"');
  await expect(page.getByTestId("file-user-data")).toContainText('"battery": 0.82');
  // How it arrived, and the SHA-256 the worker computed on the way to storage, with a copy button.
  await expect(page.getByTestId("file-arrived-via")).toHaveText("file transfer over MQTT");
  const sha256 = createHash("sha256").update(lines).digest("hex");
  await expect(page.getByTestId("file-sha256")).toContainText(sha256);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy SHA-256" }).click();
  await expect(page.getByRole("button", { name: "SHA-256 copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sha256);
  await keepScreenshot("15-file-over-mqtt");
});
