import { hashPassword } from "@fleetdrop/db/passwords";
import { HOSTILE_CALLBACKS } from "@fleetdrop/web/callback-url-cases";
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

  test("callbackUrl leads only to this site, in Chromium and over HTTP, signed in or not", async ({ page, signIn, world, baseURL }) => {
    // Two page loads per form (a sign-in, then a navigation while signed in): the time allowed
    // grows with the list, which the unit test of safeCallbackPath extends too.
    test.setTimeout(30_000 + HOSTILE_CALLBACKS.length * 20_000);
    const site = new URL(baseURL!).origin;
    expect(HOSTILE_CALLBACKS.length).toBeGreaterThanOrEqual(20);

    // Signed out: the sign-in form, then wherever it sends the browser (here: "/", the project overview).
    for (const encoded of HOSTILE_CALLBACKS) {
      await page.context().clearCookies();
      await page.goto(`/sign-in?callbackUrl=${encoded}`);
      await page.getByLabel("Email").fill(world.users.member.email);
      await page.getByLabel("Password").fill(world.users.member.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByRole("heading", { name: "Overview", level: 1 }), encoded).toBeVisible();
      expect(new URL(page.url()).origin, encoded).toBe(site);
    }

    // Signed in: the sign-in page redirects at once, in the browser and over plain HTTP.
    await signIn("member");
    for (const encoded of HOSTILE_CALLBACKS) {
      await page.goto(`/sign-in?callbackUrl=${encoded}`);
      await expect(page.getByRole("heading", { name: "Overview", level: 1 }), encoded).toBeVisible();
      expect(new URL(page.url()).origin, encoded).toBe(site);

      const response = await page.request.get(`/sign-in?callbackUrl=${encoded}`, { maxRedirects: 0 });
      expect(response.status(), encoded).toBe(307);
      expect(new URL(response.headers().location!, site).href, encoded).toBe(`${site}/`);
    }

    // A path here is kept.
    const kept = await page.request.get(`/sign-in?callbackUrl=${encodeURIComponent(`/p/${world.project.slug}/devices`)}`, {
      maxRedirects: 0,
    });
    expect(new URL(kept.headers().location!, site).href).toBe(`${site}/p/${world.project.slug}/devices`);
  });

  test("a spoofed X-Forwarded-For neither resets the guess limit nor is recorded; the limit spares other addresses", async ({
    page,
    prisma,
  }) => {
    const email = `guessed-${Date.now()}@e2e.test`;
    const password = "the-right-password-1";
    await prisma.user.create({ data: { email, name: "Guessed", passwordHash: await hashPassword(password) } });
    const attempt = async (guess: string, forwardedFor: string) => {
      const csrf = (await (await page.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
      const response = await page.request.post("/api/auth/callback/credentials", {
        form: { csrfToken: csrf.csrfToken, email, password: guess, json: "true" },
        headers: { "X-Forwarded-For": forwardedFor },
        maxRedirects: 0,
      });
      const { url } = (await response.json()) as { url: string };
      return new URL(url).searchParams.get("error") ?? "ok";
    };
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await attempt(`guess-${i}`, `203.0.113.${i}`));
    expect(answers).toEqual(["invalid", "invalid", "invalid", "invalid", "invalid", "rate_limited"]);
    // Even the right password, from this connection, whatever it claims to come from.
    expect(await attempt(password, "198.51.100.77")).toBe("rate_limited");

    const keys = (await prisma.signInThrottle.findMany({ where: { key: { contains: email } }, select: { key: true } })).map(
      (row) => row.key,
    );
    expect(keys).toContain(`account-address:${email}|127.0.0.1`);
    expect(keys.filter((key) => /203\.0\.113|198\.51\.100/.test(key))).toEqual([]);
    await prisma.signInThrottle.deleteMany({ where: { key: { contains: email } } });
  });
});
