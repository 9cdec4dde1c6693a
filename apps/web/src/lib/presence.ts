/** A device's presence as the dashboard shows it (browser-safe; the worker records it, docs/protocol.md#presence). */
export type TDevicePresence = {
  /** null: the device never reported presence (and the embedded broker never saw it). */
  online: boolean | null;
  /** When it became what `online` says. */
  since: string | null;
  /** How it was learnt: `broker` (connect/disconnect), `device` (birth / Last Will), `expired` (no refresh in time). */
  via: "broker" | "device" | "expired" | null;
};

export const UNKNOWN_PRESENCE: TDevicePresence = { online: null, since: null, via: null };

export function toPresence(row: {
  presenceOnline: boolean | null;
  presenceSince: Date | null;
  presenceVia: string | null;
}): TDevicePresence {
  const via = row.presenceVia === "broker" || row.presenceVia === "device" || row.presenceVia === "expired" ? row.presenceVia : null;
  return { online: row.presenceOnline, since: row.presenceSince?.toISOString() ?? null, via };
}

export const PRESENCE_VIA_LABEL: Record<NonNullable<TDevicePresence["via"]>, string> = {
  broker: "reported by the broker (connect/disconnect)",
  device: "reported by the device (birth message / Last Will)",
  expired: "no presence refresh in time: the device or the broker went away without a word",
};

/** Where the browser polls a project's presence. */
export function presenceUrl(project: string, serial?: string): string {
  return `/api/p/${encodeURIComponent(project)}/presence${serial ? `?serial=${encodeURIComponent(serial)}` : ""}`;
}

export const presenceKeys = {
  project: (project: string) => ["presence", project] as const,
};
