/**
 * API tokens in the dashboard, end to end against the built app: an admin creates a token, sees
 * it once with a copy button, a back end uses it (GET /api/v1/sessions), the list shows when it
 * was last used and never the secret, and revoking it locks the back end out. Members cannot
 * open the page. Each state of the page passes axe.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, test } from "../support/fixtures";

async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(bad, what).toEqual([]);
}

test("an admin creates a token, a back end uses it, and revoking it locks the back end out", async ({
  page,
  signIn,
  world,
  keepScreenshot,
  playwright,
  baseURL,
}) => {
  test.setTimeout(180_000);
  await signIn("admin");
  await page.goto(`/p/${world.project.slug}/api-tokens`);
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
  await expect(page.getByText("No tokens yet")).toBeVisible();
  await expectAccessible(page, "empty");

  await page.getByRole("button", { name: "+ New token" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Create token" }).click();
  await expect(dialog.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await dialog.getByLabel("Name").fill("billing-backend");
  await dialog.getByLabel("Scope").selectOption("read");
  await dialog.getByLabel("Expires").selectOption("90");
  await dialog.getByRole("button", { name: "Create token" }).click();
  await expect(dialog.getByText("Token billing-backend created")).toBeVisible();
  const secret = (await dialog.getByTestId("one-time-secret").textContent())!;
  expect(secret).toMatch(/^fd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  await expect(dialog.getByRole("button", { name: "Copy" })).toBeVisible();
  await expectAccessible(page, "token shown once");
  await keepScreenshot("15-api-token-created");
  await dialog.getByRole("button", { name: "Done" }).click();

  // A back end: no cookies, only the token.
  const backend = await playwright.request.newContext({ baseURL });
  try {
    const sessions = await backend.get("/api/v1/sessions", { headers: { Authorization: `Bearer ${secret}` } });
    expect(sessions.status()).toBe(200);
    const body = (await sessions.json()) as { items: { name: string }[] };
    expect(body.items.map((s) => s.name)).toContain(world.session.name);
    const write = await backend.patch(`/api/v1/sessions/${world.session.id}`, {
      headers: { Authorization: `Bearer ${secret}` },
      data: { state: "closed" },
    });
    expect(write.status()).toBe(403);
    expect(await write.json()).toMatchObject({ code: "insufficient_scope" });

    await page.reload();
    const row = page.getByRole("table", { name: "API tokens" }).getByRole("row").filter({ hasText: "billing-backend" });
    await expect(row).toContainText(secret.slice(0, 15));
    await expect(row).toContainText("Read");
    await expect(row.locator('td[data-label="Last used"]')).not.toContainText("Never");
    await expect(page.locator("body")).not.toContainText(secret.slice(16));
    await expectAccessible(page, "listed");

    await row.getByRole("button", { name: "Revoke billing-backend" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
    await expect(row).toContainText("Revoked");
    const refused = await backend.get("/api/v1/sessions", { headers: { Authorization: `Bearer ${secret}` } });
    expect(refused.status()).toBe(401);
    expect(await refused.json()).toMatchObject({ status: 401, code: "token_revoked" });
  } finally {
    await backend.dispose();
  }
});

test("the API reference is rendered from the OpenAPI document the API serves", async ({ page, signIn, request }) => {
  test.setTimeout(180_000);
  const document = (await (await request.get("/api/v1/openapi.json")).json()) as { openapi: string; paths: Record<string, object> };
  expect(document.openapi).toBe("3.1.0");
  await signIn("member");
  await page.goto("/api-reference");
  await expect(page.getByRole("heading", { name: "API reference", level: 1 })).toBeVisible();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) {
      await expect(page.getByRole("heading", { name: `${method.toUpperCase()} ${path}`, exact: true })).toBeVisible();
    }
  }
  await expectAccessible(page, "reference");
});

test("members cannot open API tokens", async ({ page, signIn, world }) => {
  await signIn("member");
  const response = await page.goto(`/p/${world.project.slug}/api-tokens`);
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "API tokens" })).toHaveCount(0);
});

test("paths and methods the API does not serve answer problem+json, not the dashboard's pages", async ({ request, world }) => {
  const problem = async (response: Awaited<ReturnType<typeof request.get>>) => {
    expect(response.headers()["content-type"]).toBe("application/problem+json");
    return (await response.json()) as { status: number; code: string; message: string };
  };
  for (const path of ["/api/v1", "/api/v1/nope", `/api/v1/sessions/${world.session.id}/nope`]) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(404);
    expect(await problem(response), path).toMatchObject({ status: 404, code: "not_found" });
  }
  const wrongMethod = await request.delete("/api/v1/sessions");
  expect(wrongMethod.status()).toBe(405);
  expect(wrongMethod.headers()["allow"]).toBe("GET, HEAD, OPTIONS, POST");
  expect(await problem(wrongMethod)).toMatchObject({ status: 405, code: "method_not_allowed" });
  const document = await request.post("/api/v1/openapi.json", { data: {} });
  expect(document.status()).toBe(405);
  expect(await problem(document)).toMatchObject({ code: "method_not_allowed" });
});
