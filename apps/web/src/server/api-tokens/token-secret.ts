import "server-only";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * An API token is `fd_<prefix>_<secret>`: `prefix` (12 hex characters, random) is public and
 * finds the token's row; `secret` (32 random bytes, base64url) is what makes it unguessable. Only
 * the SHA-256 of the whole token is stored: a salted slow hash adds nothing to 256 random bits,
 * and a fast one keeps every API request cheap.
 */
const TOKEN_PATTERN = /^fd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function generateApiToken(): { token: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString("hex");
  const token = `fd_${prefix}_${randomBytes(32).toString("base64url")}`;
  return { token, prefix, hash: hashApiToken(token) };
}

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The prefix of a well-formed token, or null. */
export function apiTokenPrefix(token: string): string | null {
  return TOKEN_PATTERN.exec(token)?.[1] ?? null;
}

/** Whether `token` hashes to `storedHash`, compared in constant time. */
export function apiTokenMatches(token: string, storedHash: string): boolean {
  const given = Buffer.from(hashApiToken(token), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored);
}
