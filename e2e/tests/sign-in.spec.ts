import { expect, test } from "../support/fixtures";

test.describe("sign-in", () => {
  test("signed-out visitors are sent to sign in, then back where they were going", async ({ page, world, keepScreenshot }) => {
    await page.goto(`/p/${world.project.slug}/sessions`);
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await keepScreenshot("01-sign-in");

    await page.getByLabel("Email").fill(world.users.member.email);
    await page.getByLabel("Password").fill(world.users.member.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(new RegExp(`/p/${world.project.slug}/sessions$`));
    await expect(page.getByRole("heading", { name: "Sessions", level: 1 })).toBeVisible();
  });

  test("bad input shows field errors; a wrong password shows one generic error", async ({ page, world }) => {
    await page.goto("/sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("Enter an email address")).toBeVisible();
    await expect(page.getByText("Enter your password")).toBeVisible();

    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Password").fill("x");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("Enter a valid email address, like name@example.com")).toBeVisible();
    await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");

    // Wrong password and unknown account read the same.
    for (const email of [world.users.viewer.email, "nobody@e2e.test"]) {
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("wrong-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.locator(".form-error")).toHaveText("The email or password is not right.");
      await expect(page).toHaveURL(/\/sign-in/);
    }
  });

  test("signing out ends the session", async ({ page, signIn, world }) => {
    await signIn("viewer");
    await page.goto(`/p/${world.project.slug}/sessions`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto(`/p/${world.project.slug}/sessions`);
    await expect(page).toHaveURL(/\/sign-in/);
    const api = await page.request.get(`/api/p/${world.project.slug}/sessions/${world.session.id}/files`);
    expect(api.status()).toBe(401);
  });
});
