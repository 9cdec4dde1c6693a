/**
 * X.509 for the device PKI, on @peculiar/x509 over Node's WebCrypto: ECDSA P-256 keys, a
 * self-signed CA per project, client certificates (CN = device id, clientAuth), CRLs in the
 * PEM form OpenSSL reads (`X509 CRL`), and the helpers the rest of the package shares.
 */
import "reflect-metadata";
import { createHash, randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
const crypto = webcrypto;
x509.cryptoProvider.set(crypto as never);

const EC_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export type TKeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

export async function generateKeyPair(): Promise<TKeyPair> {
  return await crypto.subtle.generateKey(EC_ALGORITHM, true, ["sign", "verify"]);
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`;
}

export async function exportPrivateKeyDer(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await crypto.subtle.exportKey("pkcs8", key));
}

export async function importPrivateKeyDer(der: Buffer): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", der, EC_ALGORITHM, false, ["sign"]);
}

/** A positive 128-bit serial number, lower-case hex without leading zeros. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return normaliseSerial(bytes.toString("hex"));
}

export function normaliseSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, "");
}

export function certificatePem(cert: x509.X509Certificate): string {
  return `${cert.toString("pem")}\n`;
}

export function fingerprintOf(cert: x509.X509Certificate): string {
  return createHash("sha256").update(Buffer.from(cert.rawData)).digest("hex");
}

export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

/** The subject CN of a certificate. */
export function commonNameOf(cert: x509.X509Certificate): string | undefined {
  return cert.subjectName.getField("CN")[0];
}

/** DN values are written as quoted strings so that a name with `,` or `=` cannot add attributes. */
function dn(attributes: Record<string, string>): x509.JsonName {
  return Object.entries(attributes).map(([type, value]) => ({ [type]: [value] }));
}

export async function createCaCertificate(options: { commonName: string; keys: TKeyPair; years: number }): Promise<x509.X509Certificate> {
  const notBefore = new Date(Date.now() - 5 * 60_000);
  const notAfter = new Date(notBefore.getTime() + options.years * 365.25 * 24 * 3600_000);
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: dn({ CN: options.commonName, O: "Fleetdrop" }),
    notBefore,
    notAfter,
    keys: options.keys,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(options.keys.publicKey),
    ],
  });
}

export type TSigner = { certificate: x509.X509Certificate; privateKey: CryptoKey };

export async function issueClientCertificate(options: {
  signer: TSigner;
  commonName: string;
  publicKey: CryptoKey;
  days: number;
}): Promise<x509.X509Certificate> {
  const notBefore = new Date(Date.now() - 5 * 60_000);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: dn({ CN: options.commonName }),
    issuer: options.signer.certificate.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.days * 24 * 3600_000),
    publicKey: options.publicKey,
    signingKey: options.signer.privateKey,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(options.signer.certificate, false),
      await x509.SubjectKeyIdentifierExtension.create(options.publicKey),
    ],
  });
}

/** A TLS server certificate (for the broker) with its host names and addresses. */
export async function issueServerCertificate(options: {
  signer: TSigner;
  hosts: string[];
  publicKey: CryptoKey;
  days: number;
}): Promise<x509.X509Certificate> {
  const notBefore = new Date(Date.now() - 5 * 60_000);
  const names = options.hosts.map((host) =>
    /^[\d.]+$/.test(host) || host.includes(":") ? { type: "ip" as const, value: host } : { type: "dns" as const, value: host },
  );
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: dn({ CN: options.hosts[0] ?? "localhost" }),
    issuer: options.signer.certificate.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.days * 24 * 3600_000),
    publicKey: options.publicKey,
    signingKey: options.signer.privateKey,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(options.signer.certificate, false),
    ],
  });
}

const CRL_REASONS = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
  certificateHold: x509.X509CrlReason.certificateHold,
} as const;

export type TCrlReason = keyof typeof CRL_REASONS;

export function isCrlReason(value: string): value is TCrlReason {
  return Object.hasOwn(CRL_REASONS, value);
}

/** DER INTEGER for the CRL Number extension (RFC 5280 §5.2.3). */
function derInteger(value: number): ArrayBuffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, "hex");
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Uint8Array.from([0x02, bytes.length, ...bytes]).buffer;
}

export async function createCrl(options: {
  signer: TSigner;
  number: number;
  nextUpdate: Date;
  entries: { serialNumber: string; revokedAt: Date; reason: TCrlReason }[];
}): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: options.signer.certificate.subjectName,
    thisUpdate: new Date(),
    nextUpdate: options.nextUpdate,
    signingKey: options.signer.privateKey,
    signingAlgorithm: EC_ALGORITHM,
    entries: options.entries.map((entry) => ({
      serialNumber: entry.serialNumber,
      revocationDate: entry.revokedAt,
      reason: CRL_REASONS[entry.reason],
    })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(options.signer.certificate, false),
      new x509.Extension("2.5.29.20", false, derInteger(options.number)),
    ],
  });
  // OpenSSL (and so Mosquitto) reads CRLs only under the "X509 CRL" PEM label.
  return `${x509.PemConverter.encode(crl.rawData, "X509 CRL")}\n`;
}

export { x509 };
