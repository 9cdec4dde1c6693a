/**
 * The webhook settings both the dashboard (when an admin saves an endpoint) and the worker (when
 * it connects, and when it signs) apply: whether endpoints may be on private, loopback or
 * link-local addresses, and the key the endpoints' signing secrets are sealed with at rest.
 */
import { z } from "zod";
import { createSecretBox, parseEncryptionKey, type TSecretBox } from "../crypto/secret-box";
import { envBoolean } from "../env";

/** A 32-byte key given as base64 or hex; refused with the setting's name and how to make one. */
const encryptionKey = (name: string) =>
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      try {
        return parseEncryptionKey(value, name);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });

export const ZWebhooksEnvSchema = z.object({
  /** Allow webhook URLs on private/loopback addresses (an internal receiver, tests). Off by default: SSRF. */
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: envBoolean.default(false),
  /**
   * 32 random bytes, base64 or hex (`openssl rand -base64 32`): seals the endpoints' signing
   * secrets in the database (AES-256-GCM). The same value on the dashboard (which requires it)
   * and every worker (which cannot sign a sealed secret without it).
   */
  WEBHOOK_SECRET_KEY: encryptionKey("WEBHOOK_SECRET_KEY").optional(),
  /** Earlier keys (comma-separated) that still open secrets until the worker's start re-seals them. */
  WEBHOOK_SECRET_KEY_PREVIOUS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      const keys: Buffer[] = [];
      for (const part of value.split(",").map((key) => key.trim())) {
        if (!part) continue;
        try {
          keys.push(parseEncryptionKey(part, "WEBHOOK_SECRET_KEY_PREVIOUS"));
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
          return z.NEVER;
        }
      }
      return keys;
    }),
});

export type TWebhooksEnv = z.infer<typeof ZWebhooksEnvSchema>;

/**
 * The box the endpoints' secrets are sealed with (the current key) and opened with (it, or a
 * previous one); undefined without WEBHOOK_SECRET_KEY.
 */
export function webhookSecretBox(env: Pick<TWebhooksEnv, "WEBHOOK_SECRET_KEY" | "WEBHOOK_SECRET_KEY_PREVIOUS">): TSecretBox | undefined {
  if (!env.WEBHOOK_SECRET_KEY) return undefined;
  return createSecretBox(env.WEBHOOK_SECRET_KEY, env.WEBHOOK_SECRET_KEY_PREVIOUS, "WEBHOOK_SECRET_KEY");
}
