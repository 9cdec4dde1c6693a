/**
 * What Mosquitto needs to know about devices, rendered from the database as the files the
 * shipped configuration (deploy/mosquitto/mosquitto.conf) reads:
 *
 *   device-ca.pem     every device CA still trusted (TLS listener `cafile`)
 *   device-crl.pem    every CA's current CRL (`crlfile`)
 *   passwd-devices    enabled password devices (`password_file` of the device password listener)
 *   dynsec-services.json  the platform's own accounts (one per service instance, each bound to
 *                     its client id) and their roles, for the dynamic-security plugin of the
 *                     services listener (mosquitto-services.ts)
 *   acl-devices       the shipped ACL patterns plus a deny-all block per disabled device, so a
 *                     certificate device still connected when it is disabled can do nothing
 *
 * Pure functions: the sync (mosquitto-sync.ts) compares the result with what is on disk.
 */
import type { TPrismaClient } from "@fleetdrop/db";
import { Prisma } from "@fleetdrop/db";

const MOSQUITTO_FILES = ["device-ca.pem", "device-crl.pem", "passwd-devices", "dynsec-services.json", "acl-devices"] as const;
export type TMosquittoFile = (typeof MOSQUITTO_FILES)[number];

export type TBrokerAuthState = {
  cas: { fingerprint: string; certificatePem: string; crlPem: string | null }[];
  passwordDevices: { serial: string; brokerPasswordHash: string }[];
  /** Usernames that must not publish or receive anything: disabled devices, deleted certificate devices. */
  blocked: string[];
};

export async function loadBrokerAuthState(prisma: TPrismaClient, now = new Date()): Promise<TBrokerAuthState> {
  const cas = await prisma.deviceCa.findMany({
    where: { notAfter: { gt: now } },
    select: { fingerprint: true, certificatePem: true, crlPem: true },
    orderBy: { createdAt: "asc" },
  });
  const passwordDevices = await prisma.$queryRaw<{ serial: string; broker_password_hash: string }[]>(Prisma.sql`
    SELECT serial, broker_password_hash FROM devices
    WHERE enabled AND auth_mode = 'password' AND broker_password_hash IS NOT NULL ORDER BY serial`);
  const blocked = await prisma.$queryRaw<{ name: string }[]>(Prisma.sql`
    SELECT serial AS name FROM devices WHERE NOT enabled
    UNION
    SELECT c.common_name FROM device_certificates c
    WHERE c.device_id IS NULL AND c.not_after > ${now}
      AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.serial = c.common_name AND d.enabled)
    ORDER BY name`);
  return {
    cas,
    passwordDevices: passwordDevices.map((row) => ({ serial: row.serial, brokerPasswordHash: row.broker_password_hash })),
    blocked: blocked.map((row) => row.name),
  };
}

/** A password file line is `user:hash`; usernames with `:` or line breaks cannot be written. */
const safeUsername = (name: string) => /^[^:\s]+$/.test(name);

export function renderPasswordFile(entries: { username: string; hash: string }[]): string {
  return entries
    .filter((entry) => safeUsername(entry.username))
    .map((entry) => `${entry.username}:${entry.hash}\n`)
    .join("");
}

export const BLOCKED_HEADER = "# --- written by the Fleetdrop broker sync: disabled and deleted devices may do nothing ---";

export function renderDeviceAcl(template: string, blocked: string[]): string {
  const base = template.split(BLOCKED_HEADER)[0]!.trimEnd();
  const blocks = blocked.filter((name) => /^[^\s#+/]+$/.test(name)).map((name) => `user ${name}\ntopic deny #\n`);
  return `${base}\n${blocks.length ? `\n${BLOCKED_HEADER}\n${blocks.join("")}` : ""}`;
}

/** The CA bundle and CRL file; null when no project has a device CA yet. */
export function renderCaFiles(state: TBrokerAuthState): { ca: string; crl: string } | null {
  const cas = state.cas.filter((ca) => ca.crlPem);
  if (cas.length === 0) return null;
  return {
    ca: cas.map((ca) => `# device CA ${ca.fingerprint}\n${ca.certificatePem.trim()}\n`).join(""),
    crl: cas.map((ca) => `# CRL of ${ca.fingerprint}\n${ca.crlPem!.trim()}\n`).join(""),
  };
}
