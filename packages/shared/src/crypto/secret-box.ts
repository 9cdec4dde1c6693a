/**
 * Sealing secrets at rest (the device CAs' private keys under DEVICE_CA_ENCRYPTION_KEY, the
 * webhook endpoints' signing secrets under WEBHOOK_SECRET_KEY): AES-256-GCM under a 32-byte key
 * from the environment (base64 or hex). A sealed value names the key it was sealed with (the
 * first 8 hex digits of the key's SHA-256), so a wrong key is a clear error and a previous key can
 * still open old values while they are re-sealed (`fleetdrop-admin ca rekey`; the worker's start
 * for webhook secrets).
 *
 *   v1.<key id>.<iv>.<ciphertext>.<tag>        (base64url parts)
 *
 * The associated data binds a sealed value to what it belongs to (e.g. the CA's fingerprint), so
 * a ciphertext copied onto another row does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export class SecretBoxError extends Error {}

export type TSecretBox = {
  /** The id of the key new values are sealed with. */
  readonly keyId: string;
  seal(plaintext: Buffer, associatedData: string): string;
  open(sealed: string, associatedData: string): Buffer;
  /** True when `sealed` was sealed with the current key. */
  isCurrent(sealed: string): boolean;
};

/** Parses a 32-byte key given as base64/base64url (44/43 chars) or hex (64 chars). */
export function parseEncryptionKey(text: string, name = "DEVICE_CA_ENCRYPTION_KEY"): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) {
    throw new SecretBoxError(`${name} must be 32 random bytes, base64 or hex (e.g. \`openssl rand -base64 32\`); got ${key.length} bytes`);
  }
  return key;
}

export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/** A new random key, base64 (what `openssl rand -base64 32` prints). */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString("base64");
}

/** `keyName`: the setting the key comes from, named in errors. */
export function createSecretBox(current: Buffer, previous: Buffer[] = [], keyName = "DEVICE_CA_ENCRYPTION_KEY"): TSecretBox {
  const keys = new Map<string, Buffer>([[keyIdOf(current), current], ...previous.map((key) => [keyIdOf(key), key] as const)]);
  const keyId = keyIdOf(current);
  return {
    keyId,
    seal(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current, iv);
      cipher.setAAD(Buffer.from(associatedData, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return ["v1", keyId, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
    },
    open(sealed, associatedData) {
      const parts = sealed.split(".");
      if (parts.length !== 5 || parts[0] !== "v1") throw new SecretBoxError("not a sealed value (expected v1.<key>.<iv>.<data>.<tag>)");
      const [, id, iv, body, tag] = parts as [string, string, string, string, string];
      const key = keys.get(id);
      if (!key) {
        throw new SecretBoxError(
          `sealed with key ${id}, but ${keyName} is key ${keyId}: ` + `set the key it was sealed with (or add it to ${keyName}_PREVIOUS)`,
        );
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        decipher.setAAD(Buffer.from(associatedData, "utf8"));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]);
      } catch {
        throw new SecretBoxError("the sealed value does not open: it was altered or belongs to another record");
      }
    },
    isCurrent(sealed) {
      return sealed.split(".")[1] === keyId;
    },
  };
}
