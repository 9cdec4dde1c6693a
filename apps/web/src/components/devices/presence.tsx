"use client";
import { useQuery } from "@tanstack/react-query";
import { Time } from "@/components/ui/time";
import { PRESENCE_VIA_LABEL, presenceKeys, presenceUrl, type TDevicePresence } from "@/lib/presence";

/** How often the badges ask again: one small request per page, whatever the number of badges. */
const POLL_MS = 5000;

/**
 * The live presence of the project's devices: every badge of a page shares one query (one
 * request every few seconds); `serial` narrows it on a device's own pages.
 */
export function usePresence(project: string, serial: string, initial: TDevicePresence): TDevicePresence {
  const { data } = useQuery({
    queryKey: [...presenceKeys.project(project), serial] as const,
    queryFn: async () => {
      const response = await fetch(presenceUrl(project, serial), { cache: "no-store" });
      if (!response.ok) throw new Error(`presence: ${response.status}`);
      return (await response.json()) as Record<string, TDevicePresence>;
    },
    refetchInterval: POLL_MS,
  });
  return data?.[serial] ?? initial;
}

export function useProjectPresence(project: string): Record<string, TDevicePresence> | undefined {
  const { data } = useQuery({
    queryKey: presenceKeys.project(project),
    queryFn: async () => {
      const response = await fetch(presenceUrl(project), { cache: "no-store" });
      if (!response.ok) throw new Error(`presence: ${response.status}`);
      return (await response.json()) as Record<string, TDevicePresence>;
    },
    refetchInterval: POLL_MS,
  });
  return data;
}

export function PresenceBadge({ presence, lastSeenAt }: { presence: TDevicePresence; lastSeenAt?: string | null }) {
  if (presence.online === null)
    return (
      <span className="presence" data-presence="unknown">
        <span className="badge badge-grey" title="The device never reported its presence">
          No presence
        </span>
        {lastSeenAt !== undefined ? (
          <span className="muted">
            {" "}
            last request <Time value={lastSeenAt} relative />
          </span>
        ) : null}
      </span>
    );
  const how = presence.via ? PRESENCE_VIA_LABEL[presence.via] : "";
  return presence.online ? (
    <span className="presence" data-presence="online" title={how}>
      <span className="badge badge-ok">Online now</span>
    </span>
  ) : (
    <span className="presence" data-presence="offline" title={how}>
      <span className="badge badge-danger">Offline</span>{" "}
      <span className="muted">
        since <Time value={presence.since} relative />
      </span>
    </span>
  );
}

/** One device's live badge (device page, devices list). */
export function LivePresence(props: { project: string; serial: string; initial: TDevicePresence; lastSeenAt?: string | null }) {
  const presence = usePresence(props.project, props.serial, props.initial);
  return <PresenceBadge presence={presence} lastSeenAt={props.lastSeenAt} />;
}

/** A list's live badge: reads the project-wide query shared by every row. */
export function LiveListPresence(props: { project: string; serial: string; initial: TDevicePresence; lastSeenAt?: string | null }) {
  const all = useProjectPresence(props.project);
  return <PresenceBadge presence={all?.[props.serial] ?? props.initial} lastSeenAt={props.lastSeenAt} />;
}
