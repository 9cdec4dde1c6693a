import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "../support/fixtures";

test.describe("who may see and do what", () => {
  test("a viewer browses but reads no file contents and reaches no admin action", async ({ page, signIn, world, keepScreenshot }) => {
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

    // A real 403, not a 200 page saying so.
    const admin = await page.goto("/admin");
    expect(admin?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "You can’t do this here" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Administration" })).toHaveCount(0);

    // File contents follow one rule: previews need the same role as downloads.
    const file = await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/files?q=mission`);
    const id = ((await file.json()) as { rows: { id: string }[] }).rows[0]!.id;
    for (const kind of ["content", "text", "download"]) {
      expect((await page.request.get(`/api/p/${world.project.slug}/files/${id}/${kind}`)).status(), kind).toBe(403);
    }
    expect((await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/archive`)).status()).toBe(403);
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}/files/${id}`);
    await expect(page.getByText("No preview for your role")).toBeVisible();
    await expect(page.getByTestId("preview-json")).toHaveCount(0);
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}?path=camera/front/`);
    await expect(page.locator('[data-testid="file-row"]').first()).toBeVisible();
    await expect(page.locator("img.thumb")).toHaveCount(0);
  });

  test("a member gets 403 on /admin too; platform admins get the page", async ({ page, signIn }) => {
    await signIn("member");
    expect((await page.goto("/admin"))?.status()).toBe(403);
    await page.context().clearCookies();
    await signIn("admin");
    expect((await page.goto("/admin"))?.status()).toBe(200);
    await expect(page.getByRole("heading", { name: "Administration", level: 1 })).toBeVisible();
  });

  test("a page on another origin cannot make the admin's browser create devices", async ({ page, signIn, world, prisma, baseURL }) => {
    await signIn("admin");
    const app = new URL(baseURL!);
    // A page served from another port of the same host: the same site, so SameSite cookies go along.
    const evil = createServer((_request, response) =>
      response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>attack</title>"),
    );
    await new Promise<void>((resolve) => evil.listen(0, app.hostname, resolve));
    const attacker = `http://${app.hostname}:${(evil.address() as AddressInfo).port}`;
    const serial = `CSRF-${Date.now()}`;
    try {
      // The frame's own goto: the page fixture's waits for the dashboard's hydration.
      await page.mainFrame().goto(`${attacker}/attack.html`);
      const sent = await page.evaluate(
        async ({ url, body }) => {
          const answer = await fetch(url, {
            method: "POST",
            mode: "no-cors",
            credentials: "include",
            headers: { "Content-Type": "text/plain" },
            body,
          });
          return answer.type;
        },
        { url: `${app.origin}/api/p/${world.project.slug}/devices`, body: `${serial}\n` },
      );
      expect(sent).toBe("opaque");
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
    // The same request by hand, to read the answer.
    const forged = await page.request.post(`/api/p/${world.project.slug}/devices`, {
      headers: { Origin: attacker, "Content-Type": "text/plain" },
      data: `${serial}-2\n`,
    });
    expect(forged.status()).toBe(403);
    const scripted = await page.request.post(`/api/p/${world.project.slug}/devices`, {
      headers: { "Content-Type": "text/plain" },
      data: `${serial}-3\n`,
    });
    expect(scripted.status()).toBe(403);
    expect(await prisma.device.count({ where: { serial: { startsWith: serial } } })).toBe(0);

    // From the dashboard's own origin the API works.
    const own = await page.request.post(`/api/p/${world.project.slug}/devices`, {
      headers: { Origin: app.origin, "Content-Type": "text/plain" },
      data: `${serial}-OK\n`,
    });
    expect(own.status()).toBe(201);
    await prisma.device.deleteMany({ where: { serial: `${serial}-OK` } });
  });

  test("downloads and previews are audited with the connection's address, not a claimed one", async ({ page, signIn, world, prisma }) => {
    await signIn("member");
    const file = await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/files?q=mission`);
    const id = ((await file.json()) as { rows: { id: string }[] }).rows[0]!.id;
    const since = new Date();
    expect(
      (
        await page.request.get(`/api/p/${world.project.slug}/files/${id}/download`, { headers: { "X-Forwarded-For": "203.0.113.50" } })
      ).status(),
    ).toBe(200);
    expect(
      (
        await page.request.get(`/api/p/${world.project.slug}/files/${id}/content`, { headers: { "X-Forwarded-For": "203.0.113.51" } })
      ).status(),
    ).toBe(200);
    const entries = await prisma.auditLog.findMany({
      where: { targetId: id, at: { gte: since } },
      select: { action: true, ip: true, actorLabel: true },
    });
    expect(entries.find((e) => e.action === "file.download")).toEqual({
      action: "file.download",
      ip: "127.0.0.1",
      actorLabel: world.users.member.email,
    });
    // A preview writes file.view unless this person viewed the file in the last minutes.
    const view = await prisma.auditLog.findFirst({
      where: { targetId: id, action: "file.view", actorLabel: world.users.member.email },
      orderBy: { at: "desc" },
      select: { ip: true },
    });
    expect(view).toEqual({ ip: "127.0.0.1" });
  });

  test("a user of another project gets 404 on direct URLs, never the data", async ({ page, signIn, world }) => {
    await signIn("member");
    for (const url of [
      `/p/${world.other.slug}/sessions`,
      `/p/${world.other.slug}/sessions/${world.other.sessionId}`,
      `/p/${world.project.slug}/sessions/${world.other.sessionId}`,
      `/p/${world.project.slug}/sessions/${world.other.sessionId}/files/${world.other.fileId}`,
      `/p/${world.project.slug}/sessions/${world.session.id}/files/${world.other.fileId}`,
    ]) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(404);
      await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
      await expect(page.locator("body")).not.toContainText("Secret flight");
    }
    for (const url of [
      `/api/p/${world.other.slug}/sessions/${world.other.sessionId}/files`,
      `/api/p/${world.project.slug}/sessions/${world.other.sessionId}/files`,
      `/api/p/${world.project.slug}/files/${world.other.fileId}/content`,
      `/api/p/${world.project.slug}/files/${world.other.fileId}/download`,
      `/api/p/${world.other.slug}/files/${world.other.fileId}/download`,
      `/api/p/${world.project.slug}/sessions/${world.other.sessionId}/archive`,
    ]) {
      const response = await page.request.get(url);
      expect(response.status(), url).toBe(404);
      expect(await response.text()).not.toContain("top secret");
    }
  });
});
