/**
 * Who may connect as what, publish and subscribe where (docs/protocol.md#identity): a device only
 * under its own `P/fleet/D/`; the ingest worker across the fleet (and it reads the embedded
 * broker's `P/broker/presence/D`, which only the broker itself publishes); the web app only a device's
 * `commands` (write) and `presence` (read). Brokers enforce this — the embedded broker through
 * these functions, Mosquitto through the equivalent ACLs and roles in deploy/mosquitto — so a
 * topic's `D` is always the sender.
 *
 * Client ids are bound to the identity at CONNECT, because the broker lets a new connection
 * with a client id take over the session of the one already connected with it:
 * - a device's client id is its id, or `<id>/<suffix>` for extra connections of the same device
 *   (`/` never occurs in a device id, so no device can name another device's id this way);
 * - a service's client id is never a valid device id (it carries a `:`, e.g.
 *   `fleetdrop-ingest:1`), so no device can connect with it;
 * - a service account connects only with its own client id, its username (one account per
 *   service instance), so no instance can connect as another.
 */
import { isValidDeviceId } from "./names";

export type TServiceRole = "worker" | "web";
export type TBrokerIdentity = { kind: "device"; deviceId: string } | { kind: "service"; name: TServiceRole };

/** Whether a device may connect with this client id. */
export function isDeviceClientId(deviceId: string, clientId: string): boolean {
  return (
    isValidDeviceId(deviceId) && (clientId === deviceId || (clientId.startsWith(`${deviceId}/`) && clientId.length > deviceId.length + 1))
  );
}

/**
 * Whether a client id may be a service's: printable, without `/`, `+`, `#`, never a device id
 * (so no device can take a service's session over).
 */
export function isServiceClientId(clientId: string): boolean {
  return /^[\x21-\x7e]{1,128}$/.test(clientId) && !/[/+#]/.test(clientId) && !isValidDeviceId(clientId);
}

export const SERVICE_CLIENT_ID_RULE =
  "must be printable ASCII without / + #, and not a valid device id (use a ':' as in fleetdrop-ingest:1)";

function deviceBase(prefix: string, deviceId: string): string {
  return `${prefix}/fleet/${deviceId}/`;
}

/** `P/fleet/<one level>/<suffix>` with a literal device level (no wildcard standing for it). */
function isAnyDeviceTopic(prefix: string, topic: string, suffix: string, allowWildcardDevice: boolean): boolean {
  const start = `${prefix}/fleet/`;
  if (!topic.startsWith(start) || !topic.endsWith(`/${suffix}`)) return false;
  const device = topic.slice(start.length, topic.length - suffix.length - 1);
  return (allowWildcardDevice && device === "+") || isValidDeviceId(device);
}

export function canPublish(identity: TBrokerIdentity, prefix: string, topic: string): boolean {
  if (topic.includes("+") || topic.includes("#") || topic.includes("\u0000")) return false;
  if (identity.kind === "service") {
    if (identity.name === "web") return isAnyDeviceTopic(prefix, topic, "commands", false);
    return topic.startsWith(`${prefix}/fleet/`) || topic.startsWith(`${prefix}/workers/`);
  }
  return (
    isValidDeviceId(identity.deviceId) &&
    topic.startsWith(deviceBase(prefix, identity.deviceId)) &&
    topic.length > deviceBase(prefix, identity.deviceId).length
  );
}

export function canSubscribe(identity: TBrokerIdentity, prefix: string, filter: string): boolean {
  if (filter.includes("\u0000")) return false;
  if (identity.kind === "service") {
    if (identity.name === "web") return !filter.startsWith("$") && isAnyDeviceTopic(prefix, filter, "presence", true);
    const plain = filter.startsWith("$share/") ? filter.split("/").slice(2).join("/") : filter;
    // P/broker/presence/: the embedded broker's own word on device connections (read-only for all).
    return plain.startsWith(`${prefix}/fleet/`) || plain.startsWith(`${prefix}/workers/`) || plain.startsWith(`${prefix}/broker/presence/`);
  }
  if (!isValidDeviceId(identity.deviceId) || filter.startsWith("$")) return false;
  const base = deviceBase(prefix, identity.deviceId);
  // The device level must be the device's own id, literally (no + or # standing in for it).
  return filter.startsWith(base) && filter.length > base.length;
}
