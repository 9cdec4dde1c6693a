import { dropConnection } from "@fleetdrop/mqtt-internals";
import { expect, test } from "../support/fixtures";
import { connectDevice } from "../support/sdk-device";

test.describe("the overview", () => {
  test("is the project's landing page, charts what arrived, and a bar leads to the list behind it", async ({
    page,
    signIn,
    world,
    keepScreenshot,
  }) => {
    await signIn("member");
    await page.goto("/");
    await expect(page).toHaveURL(new RegExp(`/p/${world.project.slug}$`));
    await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
    for (const title of ["Files arriving", "Bytes arriving", "Refused requests", "Devices", "Storage used", "Devices sending the most"])
      await expect(page.getByRole("heading", { level: 2, name: title, exact: true })).toBeVisible();
    const arrivals = page.locator("section").filter({ has: page.getByRole("heading", { name: "Files arriving" }) });
    await expect(arrivals.locator(".recharts-bar-rectangle").first()).toBeVisible();
    // The world's device sent files: it is among the top senders, and its row links to it.
    const top = page.locator("section").filter({ has: page.getByRole("heading", { name: "Devices sending the most" }) });
    await expect(top.getByRole("link", { name: world.device.serial })).toBeVisible();
    await keepScreenshot("20-overview-desktop");
    await page.setViewportSize({ width: 390, height: 844 });
    await keepScreenshot("21-overview-phone");
    await page.setViewportSize({ width: 1280, height: 900 });

    const range = page.getByRole("navigation", { name: "Range" });
    await range.getByRole("link", { name: "30d", exact: true }).click();
    await expect(page).toHaveURL(/range=30d/);
    await expect(range.getByRole("link", { name: "30d", exact: true })).toHaveAttribute("aria-current", "page");

    // A bar of the arrivals → the sessions that received that day's files (not those started that day).
    await arrivals.locator(".recharts-bar-rectangle").last().click();
    await expect(page).toHaveURL(/\/sessions\?arrivedFrom=[^&]+&arrivedTo=/);
    await expect(page.getByRole("heading", { level: 1, name: "Sessions" })).toBeVisible();
    await expect(page.getByTestId("arrived-filter")).toContainText("Sessions with files that arrived from");
    await expect(page.getByRole("table", { name: "Sessions" }).getByRole("link").first()).toBeVisible();
    await page.getByRole("link", { name: "Show every session" }).click();
    await expect(page.getByTestId("arrived-filter")).toHaveCount(0);
  });
});

test.describe("presence", () => {
  test("a device connecting and dropping while the pages are open: online now, then offline, and capture says so at once", async ({
    page,
    signIn,
    world,
    prisma,
    keepScreenshot,
  }) => {
    test.setTimeout(120_000);
    await signIn("member");
    const serial = world.device.serial;
    await page.goto(`/p/${world.project.slug}/devices/${serial}`);
    const badge = page.locator("h1 .presence");
    const before = await prisma.device.findUniqueOrThrow({ where: { serial }, select: { presenceOnline: true } });
    if (before.presenceOnline !== true) await expect(badge).not.toContainText("Online now");

    // The device connects with the SDK (birth message, Last Will): the page turns online by itself.
    const device = await connectDevice(serial, { listening: true });
    try {
      await expect(badge).toContainText("Online now", { timeout: 20_000 });
      await expect(page.getByRole("button", { name: "Request capture" })).toBeEnabled();
      await keepScreenshot("22-device-online");

      // It drops without a word (power cut): the broker publishes its Last Will.
      dropConnection(device.client);
      device.client.options.reconnectPeriod = 0;
      await expect(badge).toContainText("Offline", { timeout: 20_000 });
      await expect(badge).toContainText("since");
      await expect(page.getByRole("button", { name: "Device offline" })).toBeDisabled();
      await keepScreenshot("23-device-offline");
    } finally {
      await device.client.endAsync(true).catch(() => {});
    }
    const row = await prisma.device.findUniqueOrThrow({ where: { serial }, select: { presenceOnline: true, presenceVia: true } });
    expect(row).toEqual({ presenceOnline: false, presenceVia: "device" });

    // The devices list says the same.
    await page.goto(`/p/${world.project.slug}/devices`);
    await expect(page.getByRole("row").filter({ hasText: serial }).locator(".presence")).toContainText("Offline");

    // Back online, seen live on the list.
    await page.goto(`/p/${world.project.slug}/devices`);
    const again = await connectDevice(serial, { listening: true });
    try {
      await expect(page.getByRole("row").filter({ hasText: serial }).locator(".presence")).toContainText("Online now", {
        timeout: 20_000,
      });
      await keepScreenshot("24-devices-list-online");
    } finally {
      await again.close();
    }
    await expect(page.getByRole("row").filter({ hasText: serial }).locator(".presence")).toContainText("Offline", { timeout: 20_000 });
  });
});
