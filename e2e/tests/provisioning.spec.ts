import { readFile } from "node:fs/promises";
import { verifyPassword } from "@fleetdrop/db/passwords";
import { expect, test } from "../support/fixtures";

/** The zip's central directory names its files in plain text: enough to check what a bundle holds. */
async function bundleOf(download: { path(): Promise<string>; suggestedFilename(): string }) {
  const bytes = await readFile(await download.path());
  expect(bytes.subarray(0, 2).toString("latin1"), "a zip file").toBe("PK");
  return { name: download.suggestedFilename(), has: (entry: string) => bytes.includes(Buffer.from(entry)) };
}

test.describe("device provisioning", () => {
  test("certificate device with its bundle, a CSV batch (errors by line, then a file), rotate and revoke", async ({
    page,
    signIn,
    world,
    prisma,
    keepScreenshot,
  }) => {
    const stamp = Date.now().toString(36).toUpperCase();
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/devices`);

    // One certificate device: no password to show, a bundle with certificate, key and config.
    await page.getByRole("button", { name: "+ Add device" }).click();
    let dialog = page.getByRole("dialog");
    const certSerial = `CAM-${stamp}`;
    await dialog.getByLabel("Serial (device id)").fill(certSerial);
    await dialog.getByLabel("Name").fill("Camera arm");
    await dialog.getByLabel(/X\.509 client certificate/).check();
    await keepScreenshot("20-add-device-certificate");
    await dialog.getByRole("button", { name: "Add device" }).click();
    await expect(dialog.getByRole("heading", { name: `Device ${certSerial} registered` })).toBeVisible();
    await expect(dialog.getByText(`certificate CN=${certSerial}`)).toBeVisible();
    await expect(dialog.getByTestId("one-time-secret")).toHaveCount(0);
    let downloading = page.waitForEvent("download");
    await dialog.getByTestId("download-bundle").click();
    let bundle = await bundleOf(await downloading);
    expect(bundle.name).toBe(`${certSerial}-credentials.zip`);
    for (const file of ["device.crt", "device.key", "device.json", "README.txt"])
      expect(bundle.has(`${certSerial}/${file}`), file).toBe(true);
    await keepScreenshot("21-device-bundle");
    await dialog.getByRole("button", { name: "Done" }).click();
    expect(await prisma.deviceCertificate.count({ where: { commonName: certSerial, revokedAt: null } })).toBe(1);

    // A CSV batch: bad rows are listed by line and nothing is created; then a file that is good.
    await page.getByRole("button", { name: "Add from CSV" }).click();
    dialog = page.getByRole("dialog");
    const [first, second] = [`LINE-${stamp}-1`, `LINE-${stamp}-2`];
    await dialog.getByLabel("Devices").fill(`serial,name\n${first},One\n${world.device.serial},Dup\nbad serial,x\n`);
    await dialog.getByRole("button", { name: "Register devices" }).click();
    await expect(dialog.getByText(new RegExp(`line 3 ${world.device.serial}: already registered`))).toBeVisible();
    await expect(dialog.getByText(/line 4 bad serial/)).toBeVisible();
    await keepScreenshot("22-bulk-errors");
    expect(await prisma.device.count({ where: { serial: first } })).toBe(0);
    await dialog
      .getByLabel("CSV file")
      .setInputFiles({ name: "batch.csv", mimeType: "text/csv", buffer: Buffer.from(`serial\n${first}\n${second}\n`) });
    await expect(dialog.getByLabel("Devices")).toHaveValue(new RegExp(second));
    await dialog.getByRole("button", { name: "Register devices" }).click();
    await expect(dialog.getByRole("heading", { name: "2 devices registered" })).toBeVisible();
    downloading = page.waitForEvent("download");
    await dialog.getByTestId("download-bundle").click();
    bundle = await bundleOf(await downloading);
    expect(bundle.name).toBe("2-devices-credentials.zip");
    for (const entry of [`${first}/password.txt`, `${second}/device.json`, "devices.csv"]) expect(bundle.has(entry), entry).toBe(true);
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("link", { name: second })).toBeVisible();

    // Rotate the first one's password: a new one, shown once; the old one no longer verifies.
    await page.getByRole("link", { name: first }).click();
    await page.getByRole("button", { name: "Rotate credentials" }).click();
    dialog = page.getByRole("dialog");
    await keepScreenshot("23-rotate");
    await dialog.getByRole("button", { name: "Issue new credentials" }).click();
    await expect(dialog.getByRole("heading", { name: `New credentials for ${first}` })).toBeVisible();
    const password = (await dialog.getByTestId("one-time-secret").textContent())!;
    const stored = await prisma.device.findUniqueOrThrow({ where: { serial: first }, select: { passwordHash: true } });
    expect(await verifyPassword(password, stored.passwordHash)).toBe(true);
    await dialog.getByRole("button", { name: "Done" }).click();
    const history = page.getByRole("table", { name: "Credential history" });
    await expect(history.getByRole("row").nth(1)).toContainText("rotated");
    await expect(history).toContainText(world.users.admin.email);
    await keepScreenshot("24-device-credentials");

    // Revoke it: disabled, password erased.
    await page.getByRole("button", { name: "Revoke", exact: true }).click();
    dialog = page.getByRole("dialog");
    await dialog.getByLabel(/to confirm/).fill(first);
    await dialog.getByRole("button", { name: "Revoke credentials" }).click();
    await expect(page.getByRole("heading", { level: 1 }).getByText("Disabled")).toBeVisible();
    expect(await prisma.device.findUniqueOrThrow({ where: { serial: first }, select: { enabled: true, passwordHash: true } })).toEqual({
      enabled: false,
      passwordHash: null,
    });
  });
});
