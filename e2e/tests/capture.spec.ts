import mqtt from "mqtt";
import { uploadFile } from "../support/device-upload";
import { cameraFrame } from "../support/sample-files";
import { expect, fileRow, test } from "../support/fixtures";

test("a member asks the device for a capture; the captured image appears in the session live", async ({ page, signIn, world, prisma, store }) => {
  // Plays the device: listens on its commands topic.
  const device = await mqtt.connectAsync(process.env.FLEETDROP_E2E_MQTT_URL!, { protocolVersion: 4 });
  const commands: Record<string, unknown>[] = [];
  device.on("message", (_topic, payload) => commands.push(JSON.parse(payload.toString())));
  await device.subscribeAsync(`fleetdrop/fleet/${world.device.serial}/commands`, { qos: 1 });
  try {
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    await page.getByRole("button", { name: "◉ Request capture" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Capture requested" })).toBeVisible();
    await expect.poll(() => commands.length).toBe(1);
    expect(commands[0]).toMatchObject({ type: "capture", session_id: world.session.id, request_id: expect.stringMatching(/^capture-/) });

    // The device answers with an upload (as the worker records it), and it shows up.
    const filename = `capture-${Date.now()}.png`;
    await uploadFile({ prisma, store, deviceSerial: world.device.serial, sessionId: world.session.id }, filename, cameraFrame(42), "image/png");
    await expect(fileRow(page, filename)).toBeVisible({ timeout: 15_000 });
  } finally {
    await device.endAsync();
  }

  // Viewers do not get the button.
  await page.context().clearCookies();
  await signIn("viewer");
  await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(world.session.name);
  await expect(page.getByRole("button", { name: "◉ Request capture" })).toHaveCount(0);
});
