/**
 * Chunk forwarding in the dashboard, end to end: an admin creates a chunk stream pointing at an endpoint
 * (a local HTTP server in this test), a device (real SDK, real worker and Mosquitto) sends a
 * chunk the endpoint refuses, the parked chunk shows with its reason, and "Retry" delivers it
 * once the endpoint accepts.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connectDevice } from "../support/sdk-device";
import { expect, test } from "../support/fixtures";

test("an admin creates a stream, sees a refused chunk parked with its reason, and retries it", async ({
  page,
  signIn,
  world,
  keepScreenshot,
}) => {
  let accept = false;
  const received: { path: string; body: string; authorization?: string }[] = [];
  const endpoint = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "", body, authorization: req.headers.authorization });
      if (accept) res.writeHead(204).end();
      else res.writeHead(422).end("schema says no");
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  const port = (endpoint.address() as AddressInfo).port;
  try {
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/streams`);
    await expect(page.getByRole("heading", { name: "Chunk streams", level: 1 })).toBeVisible();
    await expect(page.getByText("No streams yet")).toBeVisible();

    await page.getByRole("button", { name: "+ New stream" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("response");
    await dialog.getByLabel("URL").fill(`http://127.0.0.1:${port}/chunks/{device_id}`);
    await dialog.getByLabel("Headers").fill("Authorization: Bearer e2e-secret");
    await dialog.getByRole("button", { name: "Create stream" }).click();
    await expect(dialog.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
    await dialog.getByLabel("Name").fill("crash");
    await dialog.getByRole("button", { name: "Create stream" }).click();
    await expect(dialog.getByText("Stream crash created")).toBeVisible();
    await dialog.getByRole("button", { name: "Done" }).click();
    await page.reload();
    const streams = page.getByRole("table", { name: "Chunk streams" });
    await expect(streams.getByRole("row").filter({ hasText: "crash" })).toContainText("headers: Authorization");
    await expect(page.locator("body")).not.toContainText("e2e-secret");

    const device = await connectDevice(world.device.serial);
    try {
      await device.sendChunk("crash", "dump-1", { confirm: true });
    } finally {
      await device.close();
    }
    await expect(async () => {
      await page.reload();
      await expect(
        page.getByRole("table", { name: "Parked chunks" }).getByRole("row").filter({ hasText: "HTTP 422: schema says no" }),
      ).toContainText(world.device.serial);
    }).toPass({ timeout: 20_000 });
    expect(received[0]).toMatchObject({ path: `/chunks/${world.device.serial}`, body: "dump-1", authorization: "Bearer e2e-secret" });
    await keepScreenshot("14-chunk-streams");

    accept = true;
    await streams.getByRole("row").filter({ hasText: "crash" }).getByRole("button", { name: "Retry 1 parked chunk" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Retry" }).click();
    await expect(async () => {
      await page.reload();
      await expect(page.getByText("Nothing parked")).toBeVisible();
      expect(received.filter((r) => r.body === "dump-1")).toHaveLength(2);
    }).toPass({ timeout: 20_000 });
  } finally {
    endpoint.close();
  }
});

test("members cannot open chunk streams", async ({ page, signIn, world }) => {
  await signIn("member");
  const response = await page.goto(`/p/${world.project.slug}/streams`);
  expect(response?.status()).toBe(403);
});
