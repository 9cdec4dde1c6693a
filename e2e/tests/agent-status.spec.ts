/**
 * An upload agent's report (agent/status, sent by the real device SDK through the real worker)
 * shows in the devices list and on the device's page; the device's own text is shown as text.
 */
import { connectDevice } from "../support/sdk-device";
import { expect, test } from "../support/fixtures";

test("the devices list and the device's page show what its upload agent last reported", async ({ page, signIn, world, prisma }) => {
  const project = await prisma.project.findUniqueOrThrow({ where: { slug: world.project.slug }, select: { id: true } });
  const serial = `AGENT-${Date.now()}`;
  await prisma.device.create({ data: { serial, name: "Agent robot", projectId: project.id } });
  const hostile = `disk full: cannot save the queue <img src=x onerror="document.title='pwned'">`;
  const device = await connectDevice(serial);
  try {
    const answer = await device.request("agentStatus", {
      backlog_files: 3,
      backlog_bytes: 7 * 1024 * 1024,
      oldest_waiting_at: new Date(Date.now() - 3 * 3600_000).toISOString(),
      last_error: hostile,
      last_error_at: new Date().toISOString(),
    });
    expect(answer.success).toBe(true);
  } finally {
    await device.close();
  }

  await signIn("member");
  await page.goto(`/p/${world.project.slug}/devices`);
  const row = page.getByRole("table", { name: "Devices" }).getByRole("row").filter({ hasText: serial });
  await expect(row).toContainText("3 files · 7 MiB");
  await expect(row).toContainText("error: disk full: cannot save the queue");
  await expect(page.getByRole("table", { name: "Devices" }).getByRole("row").filter({ hasText: world.device.serial })).toContainText(
    "no agent",
  );

  await row.getByRole("link", { name: serial }).click();
  const card = page.getByRole("region", { name: "Upload agent" });
  await expect(card).toContainText("3 files (7 MiB)");
  await expect(card).toContainText(hostile);
  await expect(card).toContainText("3 h ago");
  expect(await page.title()).not.toBe("pwned");
  expect(await card.locator("img").count()).toBe(0);
});
