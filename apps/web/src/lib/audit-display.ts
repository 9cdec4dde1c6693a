/**
 * How audit entries read: details as `key: value` lines and the client address in words.
 * Pure functions, shared by the server query and its tests.
 */
import { parseAuditEvent } from "@fleetdrop/shared/audit";
import { formatBytes, formatNumber } from "./format";

export type TDetailLine = { key: string; value: string };

const BYTE_KEYS = new Set(["size", "bytes"]);

const MAX_VALUE = 300;

function valueText(key: string, value: unknown): string {
  const text = plainText(key, value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

function plainText(key: string, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number" || (typeof value === "string" && BYTE_KEYS.has(key) && /^\d+$/.test(value))) {
    const n = Number(value);
    return BYTE_KEYS.has(key) ? `${formatBytes(n)} (${formatNumber(n)} bytes)` : formatNumber(n);
  }
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) {
    if (value.length === 0) return "none";
    const objects = value.some((v) => typeof v === "object" && v !== null);
    return value.map((v) => plainText(key, v)).join(objects ? "; " : ", ");
  }
  // A nested object reads as `key value` pairs; one with a single key is just its value.
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) return plainText(entries[0]![0], entries[0]![1]);
  return entries.map(([k, v]) => `${k} ${plainText(k, v)}`).join(", ");
}

/** `{"filename":"a.log","size":1024}` → `filename: a.log`, `size: 1 KiB (1,024 bytes)`. */
export function detailLines(details: unknown): TDetailLine[] {
  if (details === null || details === undefined) return [];
  if (typeof details !== "object" || Array.isArray(details)) return [{ key: "details", value: valueText("details", details) }];
  return Object.entries(details as Record<string, unknown>).map(([key, value]) => ({ key, value: valueText(key, value) }));
}

/**
 * An entry's details as lines, read with its action's schema (@fleetdrop/shared/audit); a row
 * whose details do not match (written by an older version) is shown from its raw JSON.
 */
export function auditDetailLines(action: string, details: unknown): TDetailLine[] {
  const event = parseAuditEvent(action, details);
  return detailLines(event ? event.details : details);
}

/**
 * The name an entry recorded for its target when it was written, for when the target is gone
 * (a deleted file, session, stream or user). Null when the details name none.
 */
export function recordedTargetName(row: {
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
}): string | null {
  const { action, targetId } = row;
  const event = parseAuditEvent(action, row.details);
  if (!event) return recordedNameFromJson(row);
  const session = (name: string) => `“${name}” (#${targetId})`;
  switch (event.action) {
    case "file.view":
    case "file.download":
      return event.details.filename;
    case "user.create":
    case "member.add":
    case "member.role":
    case "member.remove":
      return event.details.email;
    case "stream.create":
    case "stream.enable":
    case "stream.disable":
    case "stream.parked_retry":
    case "stream.parked_discard":
      return event.details.name;
    case "session.open":
      return event.details ? session(event.details.name) : `#${targetId}`;
    case "session.create":
    case "session.delete":
    case "session.download":
      return session(event.details.name);
    case "session.rename":
      return session(event.details.to);
    case "api_token.create":
    case "api_token.revoke":
      return `${event.details.name} (${event.details.prefix})`;
    case "webhook.create":
    case "webhook.update":
    case "webhook.delete":
      return event.details.url;
    case "retention.save":
    case "retention.delete_rule":
      return retentionRuleName(event.details);
    case "retention.delete":
      return session(event.details.name);
    case "retention.delete_objects":
      return `${event.details.objects.length} objects of the ${event.details.store} store`;
    default:
      return action.startsWith("session.") ? `#${targetId}` : null;
  }
}

/** A retention rule as people say it. */
export function retentionRuleName(rule: { kind: "older_than_days" | "keep_last_sessions"; value: number; store?: string }): string {
  if (rule.store) return `${rule.store} store objects older than ${rule.value} days`;
  return rule.kind === "older_than_days" ? `files older than ${rule.value} days` : `keep the last ${rule.value} sessions per device`;
}

/** recordedTargetName for rows that predate their action's schema: the usual keys, if present. */
function recordedNameFromJson(row: { targetType: string | null; targetId: string | null; details: unknown }): string | null {
  const d = row.details && typeof row.details === "object" && !Array.isArray(row.details) ? (row.details as Record<string, unknown>) : {};
  const pick = (...keys: string[]) => keys.map((k) => d[k]).find((v): v is string => typeof v === "string" && v !== "");
  switch (row.targetType) {
    case "file":
      return pick("filename") ?? null;
    case "user":
      return pick("email") ?? null;
    case "chunk_stream":
      return pick("name") ?? null;
    case "session":
      return pick("name", "to") ? `“${pick("name", "to")}” (#${row.targetId})` : `#${row.targetId}`;
    default:
      return null;
  }
}

/**
 * The address an action came from, in words: loopback is "this machine (localhost)", an IPv4
 * address that reached an IPv6 socket (`::ffff:192.0.2.7`) is shown as plain IPv4.
 */
export function readableAddress(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const address = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  const plain = mapped ? mapped[1]! : address;
  if (plain === "::1" || plain === "0:0:0:0:0:0:0:1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain)) return "this machine (localhost)";
  return plain;
}
