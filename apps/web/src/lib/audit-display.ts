/**
 * How audit entries read: details as `key: value` lines and the client address in words.
 * Pure functions, shared by the server query and its tests.
 */
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
