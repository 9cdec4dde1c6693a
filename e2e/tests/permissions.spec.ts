import { expect, test } from "../support/fixtures";

test.describe("who may see and do what", () => {
  test("a viewer browses and previews but reaches no admin action and cannot download", async ({ page, signIn, world, keepScreenshot }) => {
    await signIn("viewer");
    await page.goto(`/p/${world.project.slug}/sessions`);
    await expect(page.getByRole("button", { name: "+ New session" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Audit log" })).toHaveCount(0);

    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    await expect(page.getByRole("heading", { level: 1 })).toContainText(world.session.name);
    for (const name of ["Rename", "Close session", "Delete", "Download all (.zip)"]) {
      await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
      await expect(page.getByRole("link", { name, exact: true })).toHaveCount(0);
    }
    await expect(page.getByRole("link", { name: /^Download / })).toHaveCount(0);

    await page.goto(`/p/${world.project.slug}/devices`);
    await expect(page.getByRole("button", { name: "+ Add device" })).toHaveCount(0);
    await page.goto(`/p/${world.project.slug}/devices/${world.device.serial}`);
    await expect(page.getByRole("button", { name: "Disable" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);

    await page.goto(`/p/${world.project.slug}/audit`);
    await expect(page.getByRole("heading", { name: "You can’t do this here" })).toBeVisible();
    await keepScreenshot("09-viewer-forbidden");

    const file = await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/files?q=mission`);
    const id = ((await file.json()) as { rows: { id: string }[] }).rows[0]!.id;
    expect((await page.request.get(`/api/p/${world.project.slug}/files/${id}/content`)).status()).toBe(200);
    expect((await page.request.get(`/api/p/${world.project.slug}/files/${id}/download`)).status()).toBe(403);
    expect((await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/archive`)).status()).toBe(403);
  });

  test("a user of another project gets 404 on direct URLs, never the data", async ({ page, signIn, world }) => {
    await signIn("member");
    for (const url of [`/p/${world.other.slug}/sessions`, `/p/${world.other.slug}/sessions/${world.other.sessionId}`, `/p/${world.project.slug}/sessions/${world.other.sessionId}`, `/p/${world.project.slug}/sessions/${world.other.sessionId}/files/${world.other.fileId}`, `/p/${world.project.slug}/sessions/${world.session.id}/files/${world.other.fileId}`]) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(404);
      await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
      await expect(page.locator("body")).not.toContainText("Secret flight");
    }
    for (const url of [`/api/p/${world.other.slug}/sessions/${world.other.sessionId}/files`, `/api/p/${world.project.slug}/sessions/${world.other.sessionId}/files`, `/api/p/${world.project.slug}/files/${world.other.fileId}/content`, `/api/p/${world.project.slug}/files/${world.other.fileId}/download`, `/api/p/${world.other.slug}/files/${world.other.fileId}/download`, `/api/p/${world.project.slug}/sessions/${world.other.sessionId}/archive`]) {
      const response = await page.request.get(url);
      expect(response.status(), url).toBe(404);
      expect(await response.text()).not.toContain("top secret");
    }
  });
});
