import { mkdir } from "node:fs/promises";
import path from "node:path";
import { test as base, expect, type Page } from "@playwright/test";
import { createPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import type { Store } from "@fleetdrop/storage/store";
import { openSessionsStore } from "./store";
import type { TWorld } from "./world";

const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../test-results/screenshots");

type TFixtures = {
  world: TWorld;
  /** Signs the page's browser context in over HTTP (next-auth's credentials endpoint). */
  signIn: (who: keyof TWorld["users"]) => Promise<void>;
  /** Keeps a screenshot of the page as a test artefact (e2e/test-results/screenshots). */
  keepScreenshot: (name: string) => Promise<void>;
};

type TWorkerFixtures = { prisma: TPrismaClient; store: Store };

export const test = base.extend<TFixtures, TWorkerFixtures>({
  // oxlint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern here, even an empty one
  baseURL: async ({}, use) => use(process.env.FLEETDROP_E2E_BASE_URL),
  // Every navigation waits for React to take over the page, so clicks are never lost.
  page: async ({ page }, use) => {
    const goto = page.goto.bind(page);
    const reload = page.reload.bind(page);
    const hydrated = () => page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 15_000 });
    page.goto = async (url, options) => {
      const response = await goto(url, options);
      await hydrated();
      return response;
    };
    page.reload = async (options) => {
      const response = await reload(options);
      await hydrated();
      return response;
    };
    await use(page);
  },
  // oxlint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern here, even an empty one
  world: async ({}, use) => use(JSON.parse(process.env.FLEETDROP_E2E_WORLD!) as TWorld),
  prisma: [
    // oxlint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern here, even an empty one
    async ({}, use) => {
      const prisma = createPrismaClient({ databaseUrl: process.env.FLEETDROP_E2E_DATABASE_URL!, maxConnections: 2 });
      await use(prisma);
      await prisma.$disconnect();
    },
    { scope: "worker" },
  ],
  store: [
    // oxlint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern here, even an empty one
    async ({}, use) => use(openSessionsStore({ dir: process.env.FLEETDROP_E2E_STORE_DIR!, bucket: "fleetdrop" })),
    { scope: "worker" },
  ],
  signIn: async ({ page, world }, use) => {
    await use(async (who) => {
      const csrf = (await (await page.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
      const response = await page.request.post("/api/auth/callback/credentials", {
        form: { csrfToken: csrf.csrfToken, email: world.users[who].email, password: world.users[who].password, json: "true" },
        maxRedirects: 0,
      });
      expect(response.status(), "sign-in over HTTP").toBeLessThan(400);
      const cookies = await page.context().cookies();
      expect(
        cookies.some((c) => c.name.includes("session-token")),
        "session cookie set",
      ).toBe(true);
    });
  },
  keepScreenshot: async ({ page }, use) => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await use(async (name) => {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    });
  },
});

export { expect };

/** Waits for the files table to list a row with this full file name. */
export function fileRow(page: Page, filename: string) {
  return page.locator(`[data-testid="file-row"][data-filename="${filename}"]`);
}
