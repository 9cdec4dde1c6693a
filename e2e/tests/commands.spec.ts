import { connectDevice } from "../support/sdk-device";
import { expect, test } from "../support/fixtures";

test("an admin sends commands; the device (real SDK) runs them in order and its report shows in the history", async ({
  page,
  signIn,
  world,
  keepScreenshot,
}) => {
  const device = await connectDevice(world.device.serial, { listening: true });
  const reported: string[] = [];
  await device.listen({ onReported: (notice) => reported.push(notice.service) });
  try {
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/devices/${world.device.serial}`);
    await page.getByRole("link", { name: "Commands" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Commands for");

    const form = page.getByRole("form", { name: "Send commands" });
    // A bad service name is refused in the browser, on the field.
    await form.getByLabel("Service").fill("../etc");
    await form.getByLabel("Commands").fill("echo hello");
    await form.getByRole("button", { name: "Send to device" }).click();
    await expect(form.getByText("Use letters, digits")).toBeVisible();

    await form.getByLabel("Service").fill("monitor");
    await form.getByLabel("Commands").fill(`echo hello from ${world.device.serial}\nexit 3\necho still runs`);
    await form.getByRole("button", { name: "Send to device" }).click();
    await expect(form.getByRole("status")).toContainText("Sent 3 commands to");

    const history = page.getByRole("list", { name: `Command history of ${world.device.serial}` });
    const report = history.getByRole("table", { name: /^Report of monitor/ }).first();
    await expect(report).toBeVisible({ timeout: 20_000 });
    await expect(report.getByRole("row")).toHaveCount(4);
    await expect(report.getByRole("row").nth(1)).toContainText(`hello from ${world.device.serial}`);
    await expect(report.getByRole("row").nth(2)).toContainText("exit code 3");
    await expect(report.getByRole("row").nth(3)).toContainText("still runs");
    expect(reported).toEqual(["monitor"]);
    await keepScreenshot("12-device-commands");
  } finally {
    await device.close();
  }

  // Viewers see the history but cannot send.
  await page.context().clearCookies();
  await signIn("viewer");
  await page.goto(`/p/${world.project.slug}/devices/${world.device.serial}/commands`);
  await expect(page.getByRole("list", { name: `Command history of ${world.device.serial}` })).toBeVisible();
  await expect(page.getByRole("form", { name: "Send commands" })).toHaveCount(0);
});
