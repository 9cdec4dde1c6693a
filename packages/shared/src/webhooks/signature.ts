/**
 * The `Fleetdrop-Signature` header of webhook deliveries (docs/api.md#webhooks):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the endpoint's secret>`.
 * Signing the timestamp with the body lets a receiver refuse replays of old deliveries.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "fleetdrop-signature";
export const EVENT_ID_HEADER = "fleetdrop-event-id";
export const EVENT_TYPE_HEADER = "fleetdrop-event";
export const DELIVERY_HEADER = "fleetdrop-delivery";

/** How far a receiver should accept a signature's timestamp from its own clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new endpoint secret: 32 random bytes, prefixed so it is recognisable in a leak scan. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export function signPayload(secret: string, body: string | Buffer, timestamp: number): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

export type TVerifyResult = { ok: true; timestamp: number } | { ok: false; reason: "malformed" | "mismatch" | "too_old" };

/** The receiver's check: a v1 signature matches and the timestamp is within `toleranceSeconds`. */
export function verifySignature(
  secret: string,
  body: string | Buffer,
  header: string | null | undefined,
  options: { toleranceSeconds?: number; now?: number } = {},
): TVerifyResult {
  if (!header) return { ok: false, reason: "malformed" };
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === null || signatures.length === 0) return { ok: false, reason: "malformed" };
  const expected = Buffer.from(signPayload(secret, body, timestamp).slice(`t=${timestamp},v1=`.length), "hex");
  if (!signatures.some((candidate) => timingSafeEqual(Buffer.from(candidate, "hex"), expected))) return { ok: false, reason: "mismatch" };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return { ok: false, reason: "too_old" };
  return { ok: true, timestamp };
}
