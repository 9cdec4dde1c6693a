/** The connection flags every command accepts, and connecting with them (flags > env > config file). */
import { FleetdropDevice, type TDeviceOptions } from "../client";
import { findConfigFile, loadConfigFile, resolveConnection, type TConnectionFlags } from "./config";

export const CONNECTION_OPTIONS = {
  url: { type: "string" },
  device: { type: "string" },
  password: { type: "string" },
  prefix: { type: "string" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "mqtt-version": { type: "string" },
  timeout: { type: "string" },
  "rate-limit-retries": { type: "string" },
  config: { type: "string" },
} as const;

export async function connectWithFlags(
  values: TConnectionFlags & { config?: string },
  adjust?: (connection: TDeviceOptions) => TDeviceOptions,
) {
  const config = loadConfigFile(findConfigFile(values.config));
  const connection = resolveConnection(values, config);
  return { device: await FleetdropDevice.connect(adjust ? adjust(connection) : connection), config };
}
