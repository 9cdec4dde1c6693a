/**
 * A TLS certificate for the broker when no public CA signs one (a LAN, a lab, tests): a
 * self-signed "broker CA" and a server certificate for the given host names / addresses.
 * Devices get the CA in their bundle (broker-ca.crt) to verify the broker.
 */
import { certificatePem, createCaCertificate, exportPrivateKeyPem, generateKeyPair, issueServerCertificate } from "../crypto/x509";

export type TBrokerTls = { caPem: string; caKeyPem: string; certPem: string; keyPem: string };

export async function createBrokerTls(options: { hosts: string[]; days?: number }): Promise<TBrokerTls> {
  const caKeys = await generateKeyPair();
  const ca = await createCaCertificate({ commonName: "Fleetdrop broker CA", keys: caKeys, years: 20 });
  const keys = await generateKeyPair();
  const cert = await issueServerCertificate({
    signer: { certificate: ca, privateKey: caKeys.privateKey },
    hosts: options.hosts,
    publicKey: keys.publicKey,
    days: options.days ?? 825,
  });
  return {
    caPem: certificatePem(ca),
    caKeyPem: await exportPrivateKeyPem(caKeys.privateKey),
    certPem: certificatePem(cert),
    keyPem: await exportPrivateKeyPem(keys.privateKey),
  };
}
