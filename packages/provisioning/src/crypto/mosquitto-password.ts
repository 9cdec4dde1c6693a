/**
 * Passwords in Mosquitto's password-file format (`$7$<iterations>$<salt>$<hash>`: PBKDF2 with
 * HMAC-SHA512, base64), as `mosquitto_passwd` writes them, so the broker checks device and
 * service passwords itself.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/** Device passwords are 144 random bits: iterations only cost the broker CPU at connect. */
const ITERATIONS = 1000;

export function mosquittoPasswordHash(password: string, iterations = ITERATIONS): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, "sha512");
  return `$7$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export function verifyMosquittoPassword(password: string, stored: string | null | undefined): boolean {
  const match = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored ?? "");
  if (!match) return false;
  const expected = Buffer.from(match[3]!, "base64");
  const actual = pbkdf2Sync(password, Buffer.from(match[2]!, "base64"), Number(match[1]), expected.length, "sha512");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
