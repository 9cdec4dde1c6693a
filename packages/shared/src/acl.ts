/**
 * Who may publish and subscribe where (docs/protocol.md#identity): a device only under its own
 * `P/fleet/D/`; the platform's service accounts (ingest worker, web app) across the fleet.
 * Brokers enforce this — the embedded broker through these functions, Mosquitto through the
 * equivalent ACL patterns in deploy/mosquitto — so a topic's `D` is always the sender.
 */
import { isValidDeviceId } from "./names";

export type TBrokerIdentity = { kind: "device"; deviceId: string } | { kind: "service"; name: string };

function deviceBase(prefix: string, deviceId: string): string {
  return `${prefix}/fleet/${deviceId}/`;
}

export function canPublish(identity: TBrokerIdentity, prefix: string, topic: string): boolean {
  if (topic.includes("+") || topic.includes("#") || topic.includes("\u0000")) return false;
  if (identity.kind === "service") return topic.startsWith(`${prefix}/fleet/`);
  return isValidDeviceId(identity.deviceId) && topic.startsWith(deviceBase(prefix, identity.deviceId)) && topic.length > deviceBase(prefix, identity.deviceId).length;
}

export function canSubscribe(identity: TBrokerIdentity, prefix: string, filter: string): boolean {
  if (filter.includes("\u0000")) return false;
  if (identity.kind === "service") {
    const plain = filter.startsWith("$share/") ? filter.split("/").slice(2).join("/") : filter;
    return plain.startsWith(`${prefix}/fleet/`);
  }
  if (!isValidDeviceId(identity.deviceId) || filter.startsWith("$")) return false;
  const base = deviceBase(prefix, identity.deviceId);
  // The device level must be the device's own id, literally (no + or # standing in for it).
  return filter.startsWith(base) && filter.length > base.length;
}
