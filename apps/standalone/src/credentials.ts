/**
 * Secrets of an embedded installation, generated on the first start and kept in the data
 * folder (mode 600) so every later start prints the same login and keeps signed URLs valid.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export type TCredentials = {
  adminPassword: string;
  devicePassword: string;
  postgresPassword: string;
  workerMqttPassword: string;
  webMqttPassword: string;
  nextAuthSecret: string;
  fsSecretAccessKey: string;
  /** WEBHOOK_SECRET_KEY: 32 bytes, base64. */
  webhookSecretKey: string;
};

const secret = (bytes = 18) => randomBytes(bytes).toString("base64url");

export async function loadCredentials(dataDir: string): Promise<TCredentials> {
  const file = path.join(dataDir, "credentials.json");
  let stored: Partial<TCredentials> = {};
  try {
    stored = JSON.parse(await readFile(file, "utf8")) as Partial<TCredentials>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const credentials: TCredentials = {
    adminPassword: stored.adminPassword ?? secret(12),
    devicePassword: stored.devicePassword ?? secret(),
    postgresPassword: stored.postgresPassword ?? secret(),
    workerMqttPassword: stored.workerMqttPassword ?? secret(),
    webMqttPassword: stored.webMqttPassword ?? secret(),
    nextAuthSecret: stored.nextAuthSecret ?? secret(32),
    fsSecretAccessKey: stored.fsSecretAccessKey ?? secret(30),
    webhookSecretKey: stored.webhookSecretKey ?? randomBytes(32).toString("base64"),
  };
  if ((Object.keys(credentials) as (keyof TCredentials)[]).some((key) => stored[key] === undefined)) {
    await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  }
  return credentials;
}
