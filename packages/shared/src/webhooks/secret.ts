/**
 * A webhook endpoint's signing secret at rest (webhook_endpoints.secret): sealed with the secret
 * box of WEBHOOK_SECRET_KEY (../crypto/secret-box.ts), bound to the endpoint's id so a sealed
 * value copied onto another endpoint does not open. The dashboard seals it when it creates or
 * rolls a secret; the worker opens it to sign each delivery.
 */
import { SecretBoxError, type TSecretBox } from "../crypto/secret-box";

const associatedData = (endpointId: string) => `fleetdrop-webhook-secret:${endpointId}`;

/**
 * Secrets written before they were sealed (`whsec_…` as generated). Only the worker's start-up
 * pass reads them, to seal them (sealStoredWebhookSecrets in the worker).
 */
export const isPlaintextWebhookSecret = (stored: string) => stored.startsWith("whsec_");

export function sealWebhookSecret(box: TSecretBox, endpointId: string, secret: string): string {
  return box.seal(Buffer.from(secret, "utf8"), associatedData(endpointId));
}

export class WebhookSecretError extends Error {}

/** The secret to sign with; a WebhookSecretError that says why when it cannot be opened (never a guess). */
export function openWebhookSecret(box: TSecretBox, endpointId: string, stored: string): string {
  try {
    return box.open(stored, associatedData(endpointId)).toString("utf8");
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error;
    throw new WebhookSecretError(`the endpoint's signing secret cannot be opened: ${error.message}`);
  }
}
