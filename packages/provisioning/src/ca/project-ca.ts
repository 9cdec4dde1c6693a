/**
 * The device CA of a project: created on first use (a self-signed ECDSA P-256 CA whose private
 * key is stored sealed, see @fleetdrop/shared/crypto/secret-box), used to issue device certificates and sign
 * the project's CRL. Rotating it starts a new CA for new certificates; the old one stays trusted
 * (in the broker's CA bundle) until the certificates it issued expire.
 */
import { projectCaLockKey } from "@fleetdrop/db/advisory-locks";
import type { TProvisioningContext } from "../context";
import { ProvisioningError, requireSecrets } from "../context";
import {
  certificatePem,
  createCaCertificate,
  exportPrivateKeyDer,
  fingerprintOf,
  generateKeyPair,
  importPrivateKeyDer,
  parseCertificate,
  type TSigner,
} from "../crypto/x509";

export type TDeviceCaRecord = {
  id: string;
  projectId: string;
  certificatePem: string;
  fingerprint: string;
  notAfter: Date;
  active: boolean;
};

const CA_YEARS = 20;

/** The associated data that binds a sealed CA key to its certificate. */
const caKeyBinding = (fingerprint: string) => `fleetdrop-device-ca:${fingerprint}`;

async function newCa(ctx: TProvisioningContext, projectId: string) {
  const secrets = requireSecrets(ctx);
  const project = await ctx.prisma.project.findUnique({ where: { id: projectId }, select: { slug: true } });
  if (!project) throw new ProvisioningError("project_not_found", "No such project");
  const keys = await generateKeyPair();
  const cert = await createCaCertificate({ commonName: `Fleetdrop device CA ${project.slug}`, keys, years: CA_YEARS });
  const fingerprint = fingerprintOf(cert);
  return {
    projectId,
    certificatePem: certificatePem(cert),
    encryptedKey: secrets.seal(await exportPrivateKeyDer(keys.privateKey), caKeyBinding(fingerprint)),
    fingerprint,
    notAfter: cert.notAfter,
  };
}

const SELECT = { id: true, projectId: true, certificatePem: true, fingerprint: true, notAfter: true, active: true } as const;

/** The project's active device CA, created if it has none. Safe to call concurrently. */
export async function ensureProjectCa(ctx: TProvisioningContext, projectId: string): Promise<TDeviceCaRecord> {
  const existing = await ctx.prisma.deviceCa.findFirst({
    where: { projectId, active: true },
    select: SELECT,
    orderBy: { createdAt: "desc" },
  });
  if (existing) return existing;
  const candidate = await newCa(ctx, projectId);
  return ctx.prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${projectCaLockKey(projectId)})`;
    const raced = await tx.deviceCa.findFirst({ where: { projectId, active: true }, select: SELECT });
    return raced ?? tx.deviceCa.create({ data: candidate, select: SELECT });
  });
}

/** Starts a new CA for the project's new certificates; the previous one stays trusted. */
export async function rotateProjectCa(ctx: TProvisioningContext, projectId: string): Promise<TDeviceCaRecord> {
  const candidate = await newCa(ctx, projectId);
  return ctx.prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${projectCaLockKey(projectId)})`;
    await tx.deviceCa.updateMany({ where: { projectId, active: true }, data: { active: false, retiredAt: new Date() } });
    return tx.deviceCa.create({ data: candidate, select: SELECT });
  });
}

const signers = new Map<string, TSigner>();

/** The CA's certificate and private key, ready to sign (opened once per process). */
export async function loadSigner(ctx: TProvisioningContext, caId: string): Promise<TSigner> {
  const cached = signers.get(caId);
  if (cached) return cached;
  const secrets = requireSecrets(ctx);
  const row = await ctx.prisma.deviceCa.findUniqueOrThrow({
    where: { id: caId },
    select: { certificatePem: true, fingerprint: true, encryptedKey: true },
  });
  const signer: TSigner = {
    certificate: parseCertificate(row.certificatePem),
    privateKey: await importPrivateKeyDer(secrets.open(row.encryptedKey, caKeyBinding(row.fingerprint))),
  };
  signers.set(caId, signer);
  return signer;
}

/** Re-seals every CA key that is not sealed with the current key (after rotating the key). */
export async function resealCaKeys(ctx: TProvisioningContext): Promise<number> {
  const secrets = requireSecrets(ctx);
  const rows = await ctx.prisma.deviceCa.findMany({ select: { id: true, fingerprint: true, encryptedKey: true } });
  let changed = 0;
  for (const row of rows) {
    if (secrets.isCurrent(row.encryptedKey)) continue;
    const plain = secrets.open(row.encryptedKey, caKeyBinding(row.fingerprint));
    await ctx.prisma.deviceCa.update({ where: { id: row.id }, data: { encryptedKey: secrets.seal(plain, caKeyBinding(row.fingerprint)) } });
    changed++;
  }
  return changed;
}
