/**
 * Formatting shared by server and client components. Deterministic where it renders text
 * (UTC, en-GB digits) so the server's HTML and the browser's agree; local time only appears
 * in the browser (see components/ui/time.tsx).
 */
import { formatCount } from "@fleetdrop/shared/format/plural";

export { formatBytes } from "@fleetdrop/shared/format/bytes";
export { formatCount, formatNumber, plural } from "@fleetdrop/shared/format/plural";

function toDate(value: Date | string): Date {
  return typeof value === "string" ? new Date(value) : value;
}

/** `2026-12-07 04:36 UTC`: the one way times are printed. */
export function formatDateTime(value: Date | string | null | undefined): string {
  if (!value) return "—";
  return `${toDate(value).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** `2026-12-07 04:36:12 UTC`, for tooltips. */
export function formatDateTimeSeconds(value: Date | string): string {
  return `${toDate(value).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The same instant in the browser's time zone: `2026-12-07 05:36:12 (Europe/Berlin)`. */
export function formatLocalDateTime(value: Date | string, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(toDate(value));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  const zone = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")} (${zone})`;
}

export function formatRelative(value: Date | string | null | undefined, now: Date = new Date()): string {
  if (!value) return "never";
  const seconds = Math.round((now.getTime() - toDate(value).getTime()) / 1000);
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${formatCount(Math.round(hours / 24), "day")} ago`;
}

/**
 * A value read back from a JSON column as text: strings as stored, other scalars through
 * String, objects as JSON (never "[object Object]"), and `fallback` when it is missing.
 */
export function jsonText(value: unknown, fallback = ""): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  // JSON holds nothing else but objects and arrays.
  return JSON.stringify(value) ?? fallback;
}
