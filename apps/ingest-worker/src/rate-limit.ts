/**
 * Per-device rate limits: one token bucket per device and class of request. The router takes a
 * token before it parses or handles anything, so a refused request costs a map look-up and a
 * short answer (`429 rate_limited` with `retry_after`) — no database statement, no place in a
 * batch, no storage call — and is still acknowledged like any other (no redelivery).
 *
 * Buckets live in the worker's memory: with several workers on one shared subscription each
 * enforces the limits on the requests it receives, so a device may get up to (workers × limit)
 * in all. The defaults leave room for that; set the limits to (fleet-wide limit ÷ workers) where
 * the total matters.
 */
import { OPERATIONS, RATE_LIMIT_CLASSES, type TOperationName, type TRateLimitClass } from "@fleetdrop/shared/operations";
import { z } from "zod";

/** The classes are the operation table's (each operation names its class). */
export { RATE_LIMIT_CLASSES, type TRateLimitClass };

/** `burst` requests at once, then `perSecond` on average. */
export type TBucketSettings = { burst: number; perSecond: number };
export type TRateLimitSettings = Record<TRateLimitClass, TBucketSettings>;

/**
 * Generous: a device doing its normal work (uploads in a loop, a transfer at full speed, a
 * stream of chunks) never meets them; a device in a loop of session/open does after a burst.
 */
export const DEFAULT_RATE_LIMITS: TRateLimitSettings = {
  session: { burst: 30, perSecond: 1 },
  upload: { burst: 1000, perSecond: 200 },
  download: { burst: 200, perSecond: 50 },
  transfer: { burst: 200, perSecond: 50 },
  segment: { burst: 10_000, perSecond: 5000 },
  chunk: { burst: 5000, perSecond: 2000 },
};

const ZBucketSchema = z.object({
  burst: z.number().int().min(1).max(1_000_000),
  per_second: z.number().positive().max(1_000_000),
});

const ZOverridesSchema = z.object(Object.fromEntries(RATE_LIMIT_CLASSES.map((name) => [name, ZBucketSchema.optional()]))).strict();

/**
 * RATE_LIMITS: JSON overriding some classes, e.g. `{"session":{"burst":10,"per_second":0.5}}`,
 * or `off`.
 */
export const ZRateLimitsSchema = z.string().transform((text, ctx): TRateLimitSettings | null => {
  if (text.trim() === "off") return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: "custom", message: `must be JSON such as {"session":{"burst":30,"per_second":1}}, or off` });
    return z.NEVER;
  }
  const parsed = ZOverridesSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({
        code: "custom",
        message: `${issue.path.join(".") || "value"}: ${issue.message} (classes: ${RATE_LIMIT_CLASSES.join(", ")})`,
      });
    return z.NEVER;
  }
  const settings = { ...DEFAULT_RATE_LIMITS };
  for (const name of RATE_LIMIT_CLASSES) {
    const given = (parsed.data as Record<string, z.infer<typeof ZBucketSchema> | undefined>)[name];
    if (given) settings[name] = { burst: given.burst, perSecond: given.per_second };
  }
  return settings;
});

/** The class of an operation: its `rateLimit` in the operation table. */
export function rateLimitClassOf(operation: TOperationName): TRateLimitClass {
  return OPERATIONS[operation].rateLimit;
}

export type TRateLimiter = {
  /** Takes a token: 0 when the request may go on, else the whole seconds until one is available. */
  take(deviceId: string, operation: TOperationName): number;
  /** Buckets held (for tests). */
  readonly size: number;
};

/** Buckets not touched for this long are full again and are dropped. */
const PRUNE_EVERY_MS = 60_000;

export function createRateLimiter(settings: TRateLimitSettings, now: () => number = () => performance.now()): TRateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let prunedAt = now();

  const prune = (at: number) => {
    prunedAt = at;
    for (const [key, bucket] of buckets) {
      const limits = settings[key.slice(0, key.indexOf("\u0000")) as TRateLimitClass];
      if (bucket.tokens + ((at - bucket.at) / 1000) * limits.perSecond >= limits.burst) buckets.delete(key);
    }
  };

  return {
    take(deviceId, operation) {
      const at = now();
      if (at - prunedAt >= PRUNE_EVERY_MS) prune(at);
      const name = rateLimitClassOf(operation);
      const limits = settings[name];
      const key = `${name}\u0000${deviceId}`;
      const bucket = buckets.get(key);
      if (!bucket) {
        buckets.set(key, { tokens: limits.burst - 1, at });
        return 0;
      }
      bucket.tokens = Math.min(limits.burst, bucket.tokens + ((at - bucket.at) / 1000) * limits.perSecond);
      bucket.at = at;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / limits.perSecond));
    },
    get size() {
      return buckets.size;
    },
  };
}
