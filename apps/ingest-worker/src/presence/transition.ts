/**
 * The one place a device's presence changes: every online → offline and offline → online
 * transition the worker records (a broker connect or disconnect, a birth message, a Last Will,
 * an expiry) is reported here once, after it is committed. Whatever should follow a device
 * going online or offline (e.g. `device.online` / `device.offline` notifications) hooks in here.
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
