/**
 * The SigV4 signing key, HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"), and the HMAC helpers that use it. Deriving the key costs four HMACs, so keys
 * are cached per secret/date/region/service: every form signed on one day reuses one key.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

const MAX_CACHED_KEYS = 64;
const cache = new Map<string, Buffer>();

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** `date` is the scope date `YYYYMMDD`. */
export function signingKey(secretAccessKey: string, date: string, region: string, service = "s3"): Buffer {
  const cacheKey = `${date}\n${region}\n${service}\n${secretAccessKey}`;
  let key = cache.get(cacheKey);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), "aws4_request");
    if (cache.size >= MAX_CACHED_KEYS) {
      // Evict the oldest entry (Map keeps insertion order); old dates stop being used.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(cacheKey, key);
  }
  return key;
}

/** Hex HMAC-SHA256 of `data` under a signing key: the signature. */
export function signHex(key: Buffer, data: string): string {
  return createHmac("sha256", key).update(data, "utf8").digest("hex");
}

export function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

const SIGNATURE = /^[0-9a-f]{64}$/;

/** Constant-time comparison of a provided signature with the expected one (both hex). */
export function signaturesMatch(provided: string, expected: string): boolean {
  if (!SIGNATURE.test(provided)) return false;
  return timingSafeEqual(Buffer.from(provided, "latin1"), Buffer.from(expected, "latin1"));
}
