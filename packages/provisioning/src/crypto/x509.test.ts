import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { certificatePem, commonNameOf, createCaCertificate, generateKeyPair, issueClientCertificate, randomSerial } from "./x509";

describe("x509", () => {
  it("issues a client certificate with CN = device id, signed by the CA, for client auth only", async () => {
    const caKeys = await generateKeyPair();
    const ca = await createCaCertificate({ commonName: "Test CA", keys: caKeys, years: 1 });
    const keys = await generateKeyPair();
    const cert = await issueClientCertificate({
      signer: { certificate: ca, privateKey: caKeys.privateKey },
      commonName: "ROBOT-1",
      publicKey: keys.publicKey,
      days: 30,
    });
    expect(commonNameOf(cert)).toBe("ROBOT-1");
    const node = new X509Certificate(certificatePem(cert));
    const nodeCa = new X509Certificate(certificatePem(ca));
    expect(node.checkIssued(nodeCa)).toBe(true);
    expect(node.verify(nodeCa.publicKey)).toBe(true);
    expect(node.ca).toBe(false);
    expect(nodeCa.ca).toBe(true);
    expect(node.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(node.subject).toBe("CN=ROBOT-1");
  });

  it("cannot be tricked into extra DN attributes by a name with separators", async () => {
    const keys = await generateKeyPair();
    const ca = await createCaCertificate({ commonName: "x, O=Evil", keys, years: 1 });
    expect(commonNameOf(ca)).toBe("x, O=Evil");
    expect(ca.subjectName.getField("O")).toEqual(["Fleetdrop"]);
  });

  it("makes positive serial numbers without leading zeros", () => {
    for (let i = 0; i < 50; i++) expect(randomSerial()).toMatch(/^[1-7][0-9a-f]{31}$/);
  });
});
