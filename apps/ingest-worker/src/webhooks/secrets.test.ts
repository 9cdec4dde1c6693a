import { createSecretBox, generateEncryptionKey, parseEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";
import { sealWebhookSecret } from "@fleetdrop/shared/webhooks/secret";
import { describe, expect, it } from "vitest";
import { signingSecret } from "./secrets";

const ENDPOINT = "5f0c8c4e-7a43-4a8e-9a0b-3c1f2d9e8b71";

describe("signingSecret", () => {
  it("signs with a plaintext secret from before sealing, with or without a key on this worker", () => {
    const box = createSecretBox(parseEncryptionKey(generateEncryptionKey()));
    expect(signingSecret(null, ENDPOINT, "whsec_from-an-earlier-version")).toBe("whsec_from-an-earlier-version");
    expect(signingSecret(box, ENDPOINT, "whsec_from-an-earlier-version")).toBe("whsec_from-an-earlier-version");
  });

  it("opens a sealed secret with the key, and refuses it without one", () => {
    const box = createSecretBox(parseEncryptionKey(generateEncryptionKey()));
    const sealed = sealWebhookSecret(box, ENDPOINT, "whsec_sealed");
    expect(sealed).not.toContain("whsec_sealed");
    expect(signingSecret(box, ENDPOINT, sealed)).toBe("whsec_sealed");
    expect(() => signingSecret(null, ENDPOINT, sealed)).toThrow(/WEBHOOK_SECRET_KEY is not set/);
  });
});
