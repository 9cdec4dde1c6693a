import { generatedCapture } from "@fleetdrop/device/demo-image";
import { connectDevice } from "../support/sdk-device";
import { expect, fileRow, test } from "../support/fixtures";

test("a member asks the device for a capture; the device's picture travels through the worker and appears where it was asked for", async ({
  page,
  signIn,
  world,
  prisma,
  store,
  keepScreenshot,
}) => {
  // The device: the real SDK, answering captures with a PNG generated in code (as the demo device of `npm start` does).
  const device = await connectDevice(world.device.serial, { listening: true });
  const answered: string[] = [];
  await device.listen({
    onCapture: async (command) => {
      answered.push(command.request_id);
      return generatedCapture(command.request_id);
    },
  });
  try {
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    const downloadAll = page.getByRole("link", { name: "Download all (.zip)" });
    const before = await downloadAll.boundingBox();
    await page.getByRole("button", { name: "Request capture" }).click();

    // The answer shows live in a panel of its own, and in the session's Files list.
    const arrived = page.locator('[data-capture-state="arrived"]');
    await expect(arrived).toBeVisible({ timeout: 20_000 });
    // The picture arriving does not push the page's other buttons around.
    expect(await downloadAll.boundingBox()).toEqual(before);
    const panel = page.getByRole("region", { name: "Capture request" });
    const [panelBox, imageBox] = [(await panel.boundingBox())!, (await arrived.getByRole("img").boundingBox())!];
    expect(imageBox.x + imageBox.width).toBeLessThanOrEqual(panelBox.x + panelBox.width);
    expect(imageBox.y + imageBox.height).toBeLessThanOrEqual(panelBox.y + panelBox.height);
    await expect(arrived.getByRole("img", { name: `Capture from ${world.device.serial}` })).toBeVisible();
    await expect.poll(() => arrived.getByRole("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
    expect(answered).toHaveLength(1);
    const file = await prisma.file.findFirst({ where: { sessionId: world.session.id, requestId: answered[0] } });
    expect(file).toMatchObject({ state: "uploaded", contentType: "image/png", storedContentType: "image/png" });
    await expect(fileRow(page, file!.filename)).toBeVisible({ timeout: 15_000 });
    const stored = await store.head(file!.objectKey);
    expect(stored?.size).toBe(Number(file!.size));
    await keepScreenshot("11-capture-arrived");

    // From the device's page too: into its latest open session.
    await page.goto(`/p/${world.project.slug}/devices/${world.device.serial}`);
    await page.getByRole("button", { name: "Request capture" }).click();
    await expect(page.locator('[data-capture-state="arrived"]')).toBeVisible({ timeout: 20_000 });
    expect(answered).toHaveLength(2);

    // An admin's session header also holds Close session and Delete: the arriving picture moves neither.
    await page.context().clearCookies();
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    const manage = [
      page.getByRole("button", { name: "Close session", exact: true }),
      page.getByRole("button", { name: "Delete", exact: true }),
    ];
    const boxes = await Promise.all(manage.map((button) => button.boundingBox()));
    expect(boxes.every((box) => box !== null)).toBe(true);
    await page.getByRole("button", { name: "Request capture" }).click();
    await expect(page.locator('[data-capture-state="arrived"]')).toBeVisible({ timeout: 20_000 });
    expect(answered).toHaveLength(3);
    expect(await Promise.all(manage.map((button) => button.boundingBox()))).toEqual(boxes);
  } finally {
    await device.close();
  }

  // Now nobody is listening: the device said goodbye, the worker recorded it offline, and the
  // button says so at once instead of asking and waiting.
  await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
  await expect(page.getByRole("button", { name: "Device offline" })).toBeDisabled({ timeout: 15_000 });

  // Viewers do not get the button.
  await page.context().clearCookies();
  await signIn("viewer");
  await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(world.session.name);
  await expect(page.getByRole("button", { name: "Request capture" })).toHaveCount(0);
});

test("a device that is online but does not answer ends as timed out (clock moved through the database)", async ({
  page,
  signIn,
  world,
  prisma,
}) => {
  // Connected and announcing presence, but without a capture handler.
  const device = await connectDevice(world.device.serial, { listening: true });
  try {
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    await page.getByRole("button", { name: "Request capture" }).click();
    await expect(page.locator('[data-capture-state="waiting"]')).toContainText(`Waiting for ${world.device.serial}`);
    // Rather than wait 45 s: the request was made long ago.
    await prisma.$executeRaw`UPDATE audit_log SET at = at - interval '10 minutes'
      WHERE action = 'session.capture' AND at > now() - interval '1 minute'`;
    await expect(page.locator('[data-capture-state="timed_out"]')).toBeVisible({ timeout: 15_000 });
  } finally {
    await device.close();
  }
});
