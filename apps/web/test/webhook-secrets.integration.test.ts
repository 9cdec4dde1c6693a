/**
 * Webhook secrets as the dashboard stores them: shown once, kept sealed under WEBHOOK_SECRET_KEY
 * (no plaintext in the column) and bound to their endpoint, so the worker's key opens exactly the
 * secret the admin was shown. Real PostgreSQL.
 */
import { createSecretBox, parseEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";
import { openWebhookSecret } from "@fleetdrop/shared/webhooks/secret";
import { describe, expect, it } from "vitest";
import { createWebhookEndpoint, rollWebhookSecret } from "@/server/webhooks/manage-webhooks";
import { contextFor, makeProject, makeUser, prisma } from "./fixtures";

// The worker's view: the same key the web app was given (test/setup-database.ts).
const workerBox = () => createSecretBox(parseEncryptionKey(process.env.WEBHOOK_SECRET_KEY!), [], "WEBHOOK_SECRET_KEY");

describe("webhook secrets", () => {
  it("are shown once and stored sealed, opening to what was shown, for a created and a rolled secret", async () => {
    const admin = await makeUser();
    const project = await makeProject([{ user: admin, role: "admin" }]);
    const ctx = contextFor(admin, project, "admin");
    const created = await createWebhookEndpoint({
      ctx,
      form: { url: "https://hooks.example.com/fleet", description: "", events: ["file.uploaded"] },
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const stored = async () => (await prisma().webhookEndpoint.findUniqueOrThrow({ where: { id: created.id } })).secret;
    const first = await stored();
    expect(first).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(first).not.toContain(created.secret.slice("whsec_".length));
    expect(openWebhookSecret(workerBox(), created.id, first)).toBe(created.secret);

    const rolled = await rollWebhookSecret({ ctx, endpointId: created.id });
    expect(rolled).not.toBe(created.secret);
    const second = await stored();
    expect(second).not.toContain(rolled.slice("whsec_".length));
    expect(openWebhookSecret(workerBox(), created.id, second)).toBe(rolled);
    // Bound to its endpoint: the same value on another id does not open.
    expect(() => openWebhookSecret(workerBox(), project.id, second)).toThrow(/cannot be opened: the sealed value does not open/);
  });
});
