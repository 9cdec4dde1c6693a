import { expect, fileRow, test } from "../support/fixtures";

test.describe("administration", () => {
  test("devices: bad input shows field errors; a new device's password is shown once; disable and delete", async ({
    page,
    signIn,
    world,
    prisma,
    keepScreenshot,
  }) => {
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/devices`);
    await keepScreenshot("06-devices");
    await page.getByRole("button", { name: "+ Add device" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Serial (device id)").fill("bad serial/1");
    await dialog.getByRole("button", { name: "Add device" }).click();
    await expect(dialog.getByText(/Use letters, digits/)).toBeVisible();
    await expect(dialog.getByText("Enter a name for the device")).toBeVisible();

    // Serials are unique platform-wide: the server says so on the field.
    await dialog.getByLabel("Serial (device id)").fill(world.device.serial);
    await dialog.getByLabel("Name").fill("Duplicate");
    await dialog.getByRole("button", { name: "Add device" }).click();
    await expect(dialog.getByText("A device with this serial is already registered")).toBeVisible();

    const serial = `NEW-${Date.now()}`;
    await dialog.getByLabel("Serial (device id)").fill(serial);
    await dialog.getByLabel("Name").fill("Brand new robot");
    await dialog.getByRole("button", { name: "Add device" }).click();
    await expect(dialog.getByRole("heading", { name: `Device ${serial} registered` })).toBeVisible();
    const password = await dialog.getByTestId("one-time-secret").textContent();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const { verifyPassword } = await import("@fleetdrop/db/passwords");
    const stored = await prisma.device.findUniqueOrThrow({ where: { serial }, select: { passwordHash: true } });
    expect(await verifyPassword(password!, stored.passwordHash)).toBe(true);
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("link", { name: serial })).toBeVisible();

    await page.getByRole("link", { name: serial }).click();
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Disable device" }).click();
    await expect(page.getByRole("heading", { level: 1 }).getByText("Disabled")).toBeVisible();
    expect((await prisma.device.findUniqueOrThrow({ where: { serial } })).enabled).toBe(false);

    await page.getByRole("button", { name: "Delete" }).click();
    const confirm = page.getByRole("dialog");
    await expect(confirm).toContainText("0 sessions");
    await expect(confirm.getByRole("button", { name: "Delete device and files" })).toBeDisabled();
    await confirm.getByLabel(/to confirm/).fill(serial);
    await confirm.getByRole("button", { name: "Delete device and files" }).click();
    await expect(page).toHaveURL(new RegExp(`/p/${world.project.slug}/devices$`));
    expect(await prisma.device.findUnique({ where: { serial } })).toBeNull();
  });

  test("sessions: open, rename (with validation), close and delete; the audit log records it", async ({
    page,
    signIn,
    world,
    prisma,
    keepScreenshot,
  }) => {
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/sessions`);
    await page.getByRole("button", { name: "+ New session" }).click();
    let dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Open session" }).click();
    await expect(dialog.getByText("Enter a session name")).toBeVisible();
    await dialog.getByLabel("Name").fill("Audit trail run");
    await dialog.getByRole("button", { name: "Open session" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Audit trail run");
    await expect(page.getByText("Waiting for the first file")).toBeVisible();
    const id = Number(/sessions\/(\d+)/.exec(page.url())![1]);

    await page.getByRole("button", { name: "Rename" }).click();
    dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("   ");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(dialog.getByText("Enter a session name")).toBeVisible();
    await dialog.getByLabel("Name").fill("Renamed run");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Renamed run");

    await page.getByRole("button", { name: "Close session" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Close session" }).click();
    await expect(page.getByRole("button", { name: "Reopen session" })).toBeVisible();
    expect((await prisma.session.findUniqueOrThrow({ where: { id } })).state).toBe("closed");

    await page.getByRole("button", { name: "Delete" }).click();
    await page
      .getByRole("dialog")
      .getByLabel(/to confirm/)
      .fill(String(id));
    await page.getByRole("dialog").getByRole("button", { name: "Delete session and files" }).click();
    await expect(page).toHaveURL(new RegExp(`/p/${world.project.slug}/sessions$`));
    expect(await prisma.session.findUnique({ where: { id } })).toBeNull();

    await page.getByRole("link", { name: "Audit log" }).click();
    for (const action of ["session.create", "session.rename", "session.close", "session.delete"]) {
      await expect(page.getByRole("cell", { name: action }).first()).toBeVisible();
    }
    await page.getByLabel("Action").selectOption("session.rename");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page.getByRole("cell", { name: "session.rename" }).first()).toBeVisible();
    await expect(page.getByRole("cell", { name: "session.delete" })).toHaveCount(0);
    await keepScreenshot("08-audit-log");
  });

  test("members: owners invite with a role and see errors for unknown input", async ({ page, signIn, world, keepScreenshot }) => {
    await signIn("admin");
    await page.goto(`/p/${world.project.slug}/members`);
    const form = page.getByRole("form", { name: "Invite a member" });
    await form.getByLabel("Email").fill("nope");
    await form.getByRole("button", { name: "Invite" }).click();
    await expect(form.getByText("Enter a valid email address, like name@example.com")).toBeVisible();

    await form.getByLabel("Email").fill(world.users.member.email);
    await form.getByRole("button", { name: "Invite" }).click();
    await expect(form.getByText(/already a member/).first()).toBeVisible();

    const email = `new-${Date.now()}@e2e.test`;
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Name (for a new account)").fill("New Person");
    await form.getByLabel("Role").selectOption("member");
    await form.getByRole("button", { name: "Invite" }).click();
    await expect(form.getByTestId("one-time-secret")).toBeVisible();
    await expect(page.getByRole("cell", { name: `New Person ${email}` })).toBeVisible();
    await keepScreenshot("07-members");
  });

  test("users change their password (mismatch and wrong current password are refused)", async ({ page, signIn }) => {
    await signIn("outsider");
    await page.goto("/account");
    await page.getByLabel("Current password").fill("correct-horse-battery");
    await page.getByLabel("New password", { exact: true }).fill("a-brand-new-password");
    await page.getByLabel("New password again").fill("a-different-password");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByText("The two new passwords differ")).toBeVisible();

    await page.getByLabel("Current password").fill("not-my-password");
    await page.getByLabel("New password again").fill("a-brand-new-password");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByText("The current password is not right")).toBeVisible();

    await page.getByLabel("Current password").fill("correct-horse-battery");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByText(/Password changed/)).toBeVisible();
    // Still signed in (re-signed with the new password), and the old password no longer works.
    await page.reload();
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    const csrf = (await (await page.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
    const old = await page.request.post("/api/auth/callback/credentials", {
      form: { csrfToken: csrf.csrfToken, email: "outsider@e2e.test", password: "correct-horse-battery", json: "true" },
      maxRedirects: 0,
    });
    expect(`${old.headers()["location"] ?? ""} ${await old.text()}`).toContain("error");
  });

  test("the dashboard works on a phone", async ({ page, signIn, world, keepScreenshot }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn("member");
    await page.goto(`/p/${world.project.slug}/sessions/${world.session.id}`);
    await expect(page.locator("#sidebar")).not.toBeInViewport();
    await page.getByRole("button", { name: "Menu" }).click();
    await expect(page.locator("#sidebar")).toBeInViewport();
    await page.keyboard.press("Escape");
    await expect(page.locator("#sidebar")).not.toBeInViewport();
    await expect(fileRow(page, "mission.json")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await keepScreenshot("10-phone-session");
  });
});
