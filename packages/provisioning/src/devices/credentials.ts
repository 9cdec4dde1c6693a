/**
 * New credentials for a device, prepared before the database transaction that records them
 * (key generation and password hashing are slow; the transaction stays short).
 */
import { generatePassword, hashPassword } from "@fleetdrop/db/passwords";
import { ensureProjectCa, loadSigner } from "../ca/project-ca";
import type { TProvisioningContext } from "../context";
import { mosquittoPasswordHash } from "../crypto/mosquitto-password";
import {
  certificatePem,
  exportPrivateKeyPem,
  fingerprintOf,
  generateKeyPair,
  issueClientCertificate,
  normaliseSerial,
} from "../crypto/x509";

export type TAuthMode = "password" | "certificate";

export type TPreparedPassword = { authMode: "password"; password: string; passwordHash: string; brokerPasswordHash: string };

export type TPreparedCertificate = {
  authMode: "certificate";
  caId: string;
  caCertificatePem: string;
  certificatePem: string;
  privateKeyPem: string;
  serialNumber: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
};

export type TPreparedCredentials = TPreparedPassword | TPreparedCertificate;

/** What the admin receives once: the device's secret and how to use it. */
export type TIssuedCredentials =
  | { authMode: "password"; password: string }
  | {
      authMode: "certificate";
      certificatePem: string;
      privateKeyPem: string;
      /** The project's device CA (for reference; the device verifies the broker with the broker's CA). */
      deviceCaCertificatePem: string;
      serialNumber: string;
      fingerprint: string;
      notAfter: Date;
    };

export async function prepareCredentials(
  ctx: TProvisioningContext,
  input: { projectId: string; serial: string; authMode: TAuthMode },
): Promise<TPreparedCredentials> {
  if (input.authMode === "password") {
    const password = generatePassword();
    return {
      authMode: "password",
      password,
      passwordHash: await hashPassword(password),
      brokerPasswordHash: mosquittoPasswordHash(password),
    };
  }
  const ca = await ensureProjectCa(ctx, input.projectId);
  const signer = await loadSigner(ctx, ca.id);
  const keys = await generateKeyPair();
  const cert = await issueClientCertificate({
    signer,
    commonName: input.serial,
    publicKey: keys.publicKey,
    days: ctx.certificateDays ?? 3650,
  });
  return {
    authMode: "certificate",
    caId: ca.id,
    caCertificatePem: ca.certificatePem,
    certificatePem: certificatePem(cert),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    serialNumber: normaliseSerial(cert.serialNumber),
    fingerprint: fingerprintOf(cert),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

export function issuedFrom(prepared: TPreparedCredentials): TIssuedCredentials {
  if (prepared.authMode === "password") return { authMode: "password", password: prepared.password };
  return {
    authMode: "certificate",
    certificatePem: prepared.certificatePem,
    privateKeyPem: prepared.privateKeyPem,
    deviceCaCertificatePem: prepared.caCertificatePem,
    serialNumber: prepared.serialNumber,
    fingerprint: prepared.fingerprint,
    notAfter: prepared.notAfter,
  };
}

/** The device columns for these credentials (the other mode's secrets are cleared). */
export function deviceColumns(prepared: TPreparedCredentials) {
  return prepared.authMode === "password"
    ? {
        authMode: "password" as const,
        passwordHash: prepared.passwordHash,
        brokerPasswordHash: prepared.brokerPasswordHash,
        credentialsIssuedAt: new Date(),
      }
    : { authMode: "certificate" as const, passwordHash: null, brokerPasswordHash: null, credentialsIssuedAt: new Date() };
}

export function certificateRow(prepared: TPreparedCertificate, deviceId: string, commonName: string) {
  return {
    deviceId,
    caId: prepared.caId,
    commonName,
    serialNumber: prepared.serialNumber,
    fingerprint: prepared.fingerprint,
    notBefore: prepared.notBefore,
    notAfter: prepared.notAfter,
  };
}
