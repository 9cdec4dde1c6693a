/** Time windows for uploads ("22:00-06:00", local time) and a token bucket for the bandwidth cap. */
import { RateLimiter, realClock, type TRateClock } from "../rate-limiter";

export type TWindow = { from: number; to: number; text: string };

const MINUTES = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "HH:MM-HH:MM" in local time; a window that ends before it starts runs over midnight. */
export function parseWindow(text: string): TWindow {
  const [from, to, extra] = text.split("-").map((part) => part.trim());
  const minutes = (part: string | undefined) => {
    const match = part === undefined ? null : MINUTES.exec(part);
    return match ? Number(match[1]) * 60 + Number(match[2]) : null;
  };
  const start = minutes(from);
  const end = minutes(to);
  if (extra !== undefined || start === null || end === null || start === end)
    throw new Error(`${JSON.stringify(text)} is not a window like "22:00-06:00" (local time, start and end differ)`);
  return { from: start, to: end, text };
}

const minuteOfDay = (date: Date) => date.getHours() * 60 + date.getMinutes();

export function inWindow(window: TWindow, date: Date): boolean {
  const m = minuteOfDay(date);
  return window.from < window.to ? m >= window.from && m < window.to : m >= window.from || m < window.to;
}

/** No windows: always open. */
export function uploadsAllowed(windows: readonly TWindow[], date: Date): boolean {
  return windows.length === 0 || windows.some((window) => inWindow(window, date));
}

/** Milliseconds until a window opens (0 when one is open). */
export function msUntilOpen(windows: readonly TWindow[], date: Date): number {
  if (uploadsAllowed(windows, date)) return 0;
  const now = minuteOfDay(date);
  let best = 24 * 60;
  for (const window of windows) best = Math.min(best, (window.from - now + 24 * 60) % (24 * 60) || 24 * 60);
  return Math.max(1000, best * 60_000 - date.getSeconds() * 1000 - date.getMilliseconds());
}

/**
 * The agent's bandwidth cap, shared by all its uploads: one second of burst, so the cap holds
 * over any few seconds.
 */
export function createBandwidthLimiter(
  bytesPerSecond: number | undefined,
  clock: TRateClock = realClock,
): ((bytes: number) => Promise<void>) | undefined {
  if (bytesPerSecond === undefined) return undefined;
  const limiter = new RateLimiter(bytesPerSecond, clock, bytesPerSecond);
  return (bytes) => limiter.take(bytes);
}
