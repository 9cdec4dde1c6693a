/**
 * Where the command line gets its connection settings, first match wins: flags, environment
 * (FLEETDROP_URL, FLEETDROP_DEVICE, FLEETDROP_PASSWORD, FLEETDROP_TOPIC_PREFIX), a JSON config
 * file (--config, FLEETDROP_DEVICE_CONFIG, or .fleetdrop/device.json that the embedded
 * platform writes for its demo device).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TDeviceOptions } from "../client";

export type TDeviceConfigFile = {
  url?: string;
  deviceId?: string;
  password?: string;
  topicPrefix?: string;
  ca?: string;
  cert?: string;
  key?: string;
  sessionId?: number;
  protocolVersion?: 4 | 5;
};

/** The directory the user ran the command from (pnpm runs package scripts elsewhere). */
export function userCwd(env: NodeJS.ProcessEnv = process.env): string {
  return env.INIT_CWD ?? process.cwd();
}

export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidate = explicit ?? env.FLEETDROP_DEVICE_CONFIG;
  if (candidate) return path.resolve(userCwd(env), candidate);
  let dir = userCwd(env);
  for (;;) {
    const file = path.join(dir, ".fleetdrop", "device.json");
    if (existsSync(file)) return file;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function loadConfigFile(file: string | undefined): TDeviceConfigFile {
  if (!file) return {};
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as TDeviceConfigFile;
    const base = path.dirname(file);
    const rel = (p?: string) => (p && !p.includes("-----BEGIN") ? path.resolve(base, p) : p);
    return { ...value, ca: rel(value.ca), cert: rel(value.cert), key: rel(value.key) };
  } catch (error) {
    throw new Error(`cannot read the device config ${file}: ${(error as Error).message}`);
  }
}

export type TConnectionFlags = {
  url?: string;
  device?: string;
  password?: string;
  prefix?: string;
  ca?: string;
  cert?: string;
  key?: string;
  "mqtt-version"?: string;
  timeout?: string;
  "rate-limit-retries"?: string;
};

export function resolveConnection(flags: TConnectionFlags, file: TDeviceConfigFile, env: NodeJS.ProcessEnv = process.env): TDeviceOptions {
  const url = flags.url ?? env.FLEETDROP_URL ?? file.url ?? "mqtt://localhost:1883";
  const deviceId = flags.device ?? env.FLEETDROP_DEVICE ?? file.deviceId;
  if (!deviceId) throw new Error("which device? pass --device <id> (or set FLEETDROP_DEVICE, or use --config)");
  const rel = (p?: string) => (p ? path.resolve(userCwd(env), p) : undefined);
  const version = flags["mqtt-version"];
  if (version && version !== "4" && version !== "5") throw new Error("--mqtt-version is 4 (MQTT 3.1.1) or 5");
  const retries = flags["rate-limit-retries"];
  if (retries !== undefined && !/^\d{1,3}$/.test(retries))
    throw new Error("--rate-limit-retries is a whole number, e.g. 3 (0: give up at the first 429)");
  return {
    url,
    deviceId,
    password: flags.password ?? env.FLEETDROP_PASSWORD ?? file.password,
    topicPrefix: flags.prefix ?? env.FLEETDROP_TOPIC_PREFIX ?? file.topicPrefix,
    ca: rel(flags.ca) ?? file.ca,
    cert: rel(flags.cert) ?? file.cert,
    key: rel(flags.key) ?? file.key,
    protocolVersion: version ? (Number(version) as 4 | 5) : file.protocolVersion,
    timeoutMs: flags.timeout ? Number(flags.timeout) * 1000 : undefined,
    ...(retries !== undefined ? { rateLimitRetries: Number(retries) } : {}),
  };
}
