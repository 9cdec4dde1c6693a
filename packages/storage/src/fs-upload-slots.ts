/**
 * Who may upload through the fs endpoint at once. An upload holds a slot from its headers to its
 * answer; slow and idle clients must not be able to hold them all. Three rules:
 * - at most `maxPerAddress` uploads per client address (IPv6: per /64), so one host cannot take
 *   every slot;
 * - an upload that receives less than `minBytesPerSecond` over a window of `rateWindowMs` is
 *   ended (the first window starts when it gets its slot), so a trickle frees its slot soon;
 * - when every slot is taken, a new upload evicts the slowest upload that is below that minimum
 *   (and has had its slot for at least `graceMs`) instead of being refused, so connections
 *   arriving from many addresses cannot starve uploads that move data.
 * Only when every slot is held by an upload at or above the minimum rate is a new one refused
 * (503 SlowDown).
 */
import type { IncomingMessage } from "node:http";

export type TUploadSlotLimits = {
  maxConcurrent: number;
  /** 0: no per-address limit (behind a proxy every upload has the proxy's address). */
  maxPerAddress: number;
  /** 0: no minimum rate. */
  minBytesPerSecond: number;
  rateWindowMs: number;
  /** An upload younger than this is never evicted (its body may not have started yet). */
  graceMs: number;
  /** The clock ages and rates are measured with, in milliseconds (tests move it). Default: Date.now. */
  now?: () => number;
};

export type TSlot = {
  readonly address: string;
  /** Gives the slot back; safe to call more than once. */
  release(): void;
};

type THeld = {
  req: IncomingMessage;
  address: string;
  since: number;
  bytes: number;
  windowStart: number;
  windowBytes: number;
  /** Ends the upload: it answers the client and closes the connection. */
  end: (reason: "too_slow" | "evicted") => void;
  released: boolean;
};

export type TSlotRefusal = "address_limit" | "busy";

export class UploadSlots {
  readonly #limits: TUploadSlotLimits;
  readonly #now: () => number;
  readonly #held = new Set<THeld>();
  readonly #perAddress = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: TUploadSlotLimits) {
    this.#limits = limits;
    this.#now = limits.now ?? Date.now;
  }

  get size(): number {
    return this.#held.size;
  }

  /**
   * A slot for `req`, or why there is none. `end` is how the slot's holder is stopped when it is
   * too slow or evicted; it must answer and close, and release the slot.
   */
  acquire(req: IncomingMessage, end: THeld["end"]): TSlot | TSlotRefusal {
    const address = clientAddress(req);
    const limits = this.#limits;
    if (limits.maxPerAddress > 0 && (this.#perAddress.get(address) ?? 0) >= limits.maxPerAddress) return "address_limit";
    if (this.#held.size >= limits.maxConcurrent && !this.#evictSlowest()) return "busy";

    const now = this.#now();
    const held: THeld = { req, address, since: now, bytes: 0, windowStart: now, windowBytes: 0, end, released: false };
    this.#held.add(held);
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    req.on("data", (chunk: Buffer) => {
      held.bytes += chunk.length;
      held.windowBytes += chunk.length;
    });
    this.#startTimer();
    return {
      address,
      release: () => this.#release(held),
    };
  }

  #release(held: THeld): void {
    if (held.released) return;
    held.released = true;
    this.#held.delete(held);
    const left = (this.#perAddress.get(held.address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(held.address, left);
    else this.#perAddress.delete(held.address);
    if (this.#held.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Frees the slot of the slowest upload below the minimum rate; false when there is none. */
  #evictSlowest(): boolean {
    const { minBytesPerSecond, graceMs } = this.#limits;
    if (minBytesPerSecond <= 0) return false;
    const now = this.#now();
    let slowest: THeld | undefined;
    let slowestRate = Infinity;
    for (const held of this.#held) {
      const age = now - held.since;
      // A body fully received is being stored: its rate no longer says anything.
      if (age < graceMs || held.req.complete) continue;
      const rate = (held.bytes * 1000) / age;
      if (rate < minBytesPerSecond && rate < slowestRate) {
        slowest = held;
        slowestRate = rate;
      }
    }
    if (!slowest) return false;
    this.#release(slowest);
    slowest.end("evicted");
    return true;
  }

  /** One timer for every slot: ends each upload whose last full window fell below the minimum. */
  #startTimer(): void {
    const { minBytesPerSecond, rateWindowMs } = this.#limits;
    if (this.#timer || minBytesPerSecond <= 0) return;
    this.#timer = setInterval(
      () => {
        const now = this.#now();
        for (const held of Array.from(this.#held)) {
          const elapsed = now - held.windowStart;
          if (elapsed < rateWindowMs || held.req.complete) continue;
          const tooSlow = (held.windowBytes * 1000) / elapsed < minBytesPerSecond;
          held.windowStart = now;
          held.windowBytes = 0;
          if (tooSlow) {
            this.#release(held);
            held.end("too_slow");
          }
        }
      },
      Math.max(50, Math.min(1000, rateWindowMs / 4)),
    );
    this.#timer.unref();
  }
}

/**
 * The address limits apply to: the client's IPv4 address (IPv4-mapped IPv6 included), or the
 * first 64 bits of an IPv6 address (one host or one customer typically holds a whole /64).
 */
export function clientAddress(req: IncomingMessage): string {
  const raw = req.socket?.remoteAddress ?? "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
  if (mapped) return mapped[1] as string;
  if (!raw.includes(":")) return raw;
  const [head = "", tail] = raw.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, "").toLowerCase())
    .join(":")}::/64`;
}
