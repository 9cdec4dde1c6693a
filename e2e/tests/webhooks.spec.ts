/**
 * Webhooks in the dashboard, end to end: an admin creates an endpoint (a local HTTP receiver that
 * verifies signatures with the secret shown once), sends a test event that first fails and is
 * retried, sees each attempt in the delivery log, and redelivers it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import AxeBuilder from "@axe-core/playwright";
import { verifySignature } from "@fleetdrop/shared/webhooks/signature";
import { expect, test } from "../support/fixtures";

test("an admin creates an endpoint, sends a test event that is retried after a failure, and redelivers it", async ({
  page,
  signIn,
  world,
}) => {
  test.setTimeout(120_000);
  let secret = "";
  let failures = 1;
  const received: { type: string; id: string; verified: boolean }[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const parsed = JSON.parse(body) as { id: string; type: string };
      received.push({
        type: parsed.type,
        id: parsed.id,
        verified: verifySignature(secret, body, req.headers["fleetdrop-signature"] as string).ok,
      });
      if (failures-- > 0) res.writeHead(500).end("receiver down");
      else res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  try {
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/webhooks`);
    await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
    await expect(page.getByText("No endpoints yet")).toBeVisible();

    await page.getByRole("button", { name: "+ New endpoint" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("URL").fill(`http://127.0.0.1:${port}/hook`);
    await dialog.getByRole("button", { name: "Create endpoint" }).click();
    await expect(dialog.getByText("Choose at least one event")).toBeVisible();
    await dialog.getByLabel("file.uploaded").check();
    await dialog.getByLabel("session.closed").check();
    await dialog.getByRole("button", { name: "Create endpoint" }).click();
    await expect(dialog.getByRole("heading", { name: "Endpoint created" })).toBeVisible();
    secret = (await dialog.getByTestId("one-time-secret").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_/);
    await dialog.getByRole("button", { name: "Done" }).click();
    await page.reload();
    const endpoints = page.getByRole("table", { name: "Webhook endpoints" });
    await expect(endpoints).toContainText("file.uploaded, session.closed");
    await expect(page.locator("body")).not.toContainText(secret);

    const axe = await new AxeBuilder({ page }).analyze();
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

    await endpoints.getByRole("button", { name: "Send test event" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Send" }).click();
    const log = page.getByRole("table", { name: "Webhook deliveries" });
    await expect(async () => {
      await page.reload();
      await expect(log.getByRole("row").filter({ hasText: "webhook.test" }).first()).toContainText("delivered");
    }).toPass({ timeout: 30_000 });
    const row = log.getByRole("row").filter({ hasText: "webhook.test" }).first();
    await expect(row).toContainText("500");
    await expect(row).toContainText("HTTP 500: receiver down");
    await expect(row).toContainText("200");
    expect(received.map((r) => [r.type, r.verified])).toEqual([
      ["webhook.test", true],
      ["webhook.test", true],
    ]);

    await row.getByRole("button", { name: "Redeliver" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Redeliver" }).click();
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(3);
    expect(received[2]!.id).toBe(received[0]!.id);
    await page.reload();
    await expect(log.getByText("redelivery")).toBeVisible();
  } finally {
    receiver.close();
  }
});

test("members cannot open webhooks", async ({ page, signIn, world }) => {
  await signIn("member");
  const response = await page.goto(`/p/${world.project.slug}/webhooks`);
  expect(response?.status()).toBe(403);
});
