"use client";
import { useSyncExternalStore } from "react";
import { formatDateTime, formatDateTimeSeconds, formatLocalDateTime, formatRelative } from "@/lib/format";

const subscribe = () => () => {};

/**
 * A point in time as the dashboard prints it (UTC, `2026-12-07 04:36 UTC`, or "3 min ago"),
 * with the reader's local time and the exact UTC time on hover. The local time is added once
 * the page runs in the browser: the server does not know the reader's time zone.
 */
export function Time({
  value,
  relative = false,
  fallback,
}: {
  value: Date | string | null | undefined;
  relative?: boolean;
  fallback?: string;
}) {
  const inBrowser = useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
  if (!value) return <>{fallback ?? (relative ? "never" : "—")}</>;
  const date = typeof value === "string" ? new Date(value) : value;
  const utc = formatDateTimeSeconds(date);
  const title = inBrowser ? `${formatLocalDateTime(date)} your time\n${utc}` : utc;
  return (
    <time dateTime={date.toISOString()} title={title} suppressHydrationWarning={relative}>
      {relative ? formatRelative(date) : formatDateTime(date)}
    </time>
  );
}
