/**
 * The endpoints' signing secrets as the worker uses them: opened from their sealed form
 * (@fleetdrop/shared/webhooks/secret) to sign each delivery, and sealed with the current
 * WEBHOOK_SECRET_KEY when the worker starts.
 *
 * Endpoints saved before secrets were sealed hold `whsec_…` as is. No SQL migration can seal
 * them (the key is not in the database), so the worker does at start, and until then (or while
 * a dashboard of the earlier version still writes them) it reads both forms: a plaintext secret
 * signs as before rather than failing deliveries during an upgrade.
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { TSecretBox } from "@fleetdrop/shared/crypto/secret-box";
import { isPlaintextWebhookSecret, openWebhookSecret, sealWebhookSecret } from "@fleetdrop/shared/webhooks/secret";

/**
 * The secret to sign with; throws (saying which key it needs) when it does not open. A plaintext
 * one signs with or without WEBHOOK_SECRET_KEY on this worker; a sealed one needs the key.
 */
export function signingSecret(box: TSecretBox | null, endpointId: string, stored: string): string {
  if (isPlaintextWebhookSecret(stored)) return stored;
  if (!box) throw new Error("WEBHOOK_SECRET_KEY is not set on this worker");
  return openWebhookSecret(box, endpointId, stored);
}

/**
 * Seals every secret not sealed with the current key: plaintext ones from before, and ones
 * sealed with a key in WEBHOOK_SECRET_KEY_PREVIOUS. Each row is replaced only if it still holds
 * what was read, so a secret rolled meanwhile is kept. Returns how many were sealed and the
 * endpoints whose secret opens with none of the configured keys (left as they are).
 */
export async function sealStoredWebhookSecrets(pool: Pool, box: TSecretBox): Promise<{ sealed: number; unreadable: string[] }> {
  const { rows } = await pool.query<{ id: string; secret: string }>(
    "SELECT id, secret FROM webhook_endpoints WHERE secret NOT LIKE $1 ORDER BY id",
    [`v1.${box.keyId}.%`],
  );
  let sealed = 0;
  const unreadable: string[] = [];
  for (const row of rows) {
    let secret: string;
    try {
      secret = signingSecret(box, row.id, row.secret);
    } catch {
      unreadable.push(row.id);
      continue;
    }
    const updated = await pool.query("UPDATE webhook_endpoints SET secret = $2 WHERE id = $1 AND secret = $3", [
      row.id,
      sealWebhookSecret(box, row.id, secret),
      row.secret,
    ]);
    sealed += updated.rowCount ?? 0;
  }
  return { sealed, unreadable };
}
