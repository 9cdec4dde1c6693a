/**
 * The one place a device's presence changes: every online → offline and offline → online
 * transition the worker records (a broker connect or disconnect, a birth message, a Last Will,
 * an expiry) is reported here once, after it is committed. The `device.online` /
 * `device.offline` webhook events are written by a trigger on the presence column, in the
 * recording transaction itself (migration 20261207170000_presence_webhook_events), so a crash
 * between the commit and this call loses none.
 */
import type { Logger } from "../logger";
import type { TPresenceChange } from "./record";

export type TPresenceTransitionDeps = { log: Logger; onChange?: (change: TPresenceChange) => void };

export function devicePresenceChanged(deps: TPresenceTransitionDeps, change: TPresenceChange): void {
  deps.log.info(
    { device: change.serial, project: change.projectId, via: change.via, since: change.since.toISOString() },
    change.online ? "device online" : "device offline",
  );
  deps.onChange?.(change);
}
