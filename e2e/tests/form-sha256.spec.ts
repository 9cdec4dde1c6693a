/**
 * A file uploaded through a form (the core flow, real SDK, worker, fs store) shows on its page
 * how it arrived and the SHA-256 of its stored bytes, which the form bound it to.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connectDevice } from "../support/sdk-device";
import { expect, fileRow, test } from "../support/fixtures";

test("a file uploaded through a form shows its SHA-256 and that it came through a form", async ({ page, signIn, world }) => {
  await signIn("member");
  await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
  const filename = `form-${Date.now()}.txt`;
  const content = "uploaded through a presigned form, hashed on the way in";
  const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-e2e-form-"));
  const device = await connectDevice(world.device.serial);
  try {
    const local = path.join(dir, "form.txt");
    await writeFile(local, content);
    await device.uploadFile({ sessionId: world.session.id, path: local, filename });
  } finally {
    await device.close();
    await rm(dir, { recursive: true, force: true });
  }
  await expect(fileRow(page, filename).getByText("Uploaded")).toBeVisible({ timeout: 15_000 });
  await fileRow(page, filename).getByRole("link", { name: filename, exact: true }).click();
  await expect(page.getByTestId("file-arrived-via")).toHaveText("upload form (HTTPS POST)");
  await expect(page.getByTestId("file-sha256")).toContainText(createHash("sha256").update(content).digest("hex"));
});
