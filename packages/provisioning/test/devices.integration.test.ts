/**
 * Provisioning against a real database: create (password or certificate), bulk CSV, rotate,
 * revoke, enable, the CRL that follows, and the credential bundle.
 */
import { X509Certificate } from "node:crypto";
import { createPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import { verifyPassword } from "@fleetdrop/db/passwords";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crlEntries, refreshCrls } from "../src/ca/crl";
import { ensureProjectCa, loadSigner } from "../src/ca/project-ca";
import { ProvisioningError, type TProvisioningContext } from "../src/context";
import { verifyMosquittoPassword } from "../src/crypto/mosquitto-password";
import { createSecretBox, generateEncryptionKey, parseEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";
import { bulkCreateDevices } from "../src/devices/bulk-create-devices";
import { createDevice } from "../src/devices/create-device";
import { revokeDevice } from "../src/devices/revoke-device";
import { rotateDeviceCredentials } from "../src/devices/rotate-credentials";
import { setDeviceEnabled } from "../src/devices/set-device-enabled";
import { bundleFileName, createCredentialBundle } from "../src/bundle/credential-bundle";

let db: TTestDatabase;
let prisma: TPrismaClient;
let ctx: TProvisioningContext;
let projectId: string;
let otherProjectId: string;

const secretColumns = (serial: string) =>
  prisma.device.findUniqueOrThrow({
    where: { serial },
    select: { passwordHash: true, brokerPasswordHash: true, authMode: true, enabled: true },
  });

async function refusal(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProvisioningError);
  return error as ProvisioningError;
}

beforeAll(async () => {
  db = await createTestDatabase("provisioning");
  prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 4 });
  ctx = { prisma, secrets: createSecretBox(parseEncryptionKey(generateEncryptionKey())), actor: "test@example.com" };
  projectId = (await prisma.project.create({ data: { slug: "line-1", name: "Line 1" } })).id;
  otherProjectId = (await prisma.project.create({ data: { slug: "line-2", name: "Line 2" } })).id;
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe("creating devices", () => {
  it("issues a password once and keeps only its hashes", async () => {
    const created = await createDevice(ctx, { projectId, serial: "PW-1", name: " Arm ", authMode: "password" });
    expect(created.device).toMatchObject({ serial: "PW-1", name: "Arm", authMode: "password", enabled: true });
    if (created.credentials.authMode !== "password") throw new Error("expected a password");
    const { password } = created.credentials;
    expect(password.length).toBeGreaterThanOrEqual(20);
    const stored = await secretColumns("PW-1");
    expect(JSON.stringify(stored)).not.toContain(password);
    expect(await verifyPassword(password, stored.passwordHash)).toBe(true);
    expect(verifyMosquittoPassword(password, stored.brokerPasswordHash)).toBe(true);
    const events = await prisma.deviceCredentialEvent.findMany({ where: { device: { serial: "PW-1" } } });
    expect(events.map((event) => [event.action, event.actorLabel])).toEqual([["issued", "test@example.com"]]);
  });

  it("issues a certificate with CN = serial from the project's CA, whose key is stored sealed", async () => {
    const created = await createDevice(ctx, { projectId, serial: "CERT-1", authMode: "certificate" });
    if (created.credentials.authMode !== "certificate") throw new Error("expected a certificate");
    const cert = new X509Certificate(created.credentials.certificatePem);
    const ca = new X509Certificate(created.credentials.deviceCaCertificatePem);
    expect(cert.subject).toBe("CN=CERT-1");
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(created.credentials.privateKeyPem).toContain("BEGIN PRIVATE KEY");
    const caRow = await prisma.deviceCa.findFirstOrThrow({ where: { projectId }, select: { id: true, encryptedKey: true } });
    expect(caRow.encryptedKey).toMatch(/^v1\./);
    expect(caRow.encryptedKey).not.toContain("PRIVATE KEY");
    const certRow = await prisma.deviceCertificate.findFirstOrThrow({ where: { commonName: "CERT-1" } });
    expect(certRow.serialNumber).toBe(created.credentials.serialNumber);
    expect(certRow.caId).toBe(caRow.id);
    const stored = await secretColumns("CERT-1");
    expect(stored).toMatchObject({ authMode: "certificate", passwordHash: null, brokerPasswordHash: null });
  });

  it("uses one CA per project even when asked concurrently", async () => {
    const [a, b] = await Promise.all([ensureProjectCa(ctx, otherProjectId), ensureProjectCa(ctx, otherProjectId)]);
    expect(a.id).toBe(b.id);
    expect(await prisma.deviceCa.count({ where: { projectId: otherProjectId } })).toBe(1);
  });

  it("refuses bad, reserved and taken serials with a readable reason", async () => {
    expect((await refusal(createDevice(ctx, { projectId, serial: "bad/serial", authMode: "password" }))).code).toBe("invalid_serial");
    expect((await refusal(createDevice(ctx, { projectId, serial: "fleetdrop-worker", authMode: "password" }))).code).toBe(
      "reserved_serial",
    );
    const taken = await refusal(createDevice(ctx, { projectId: otherProjectId, serial: "PW-1", authMode: "certificate" }));
    expect(taken.code).toBe("serial_taken");
    expect(taken.message).not.toContain("line-1");
  });

  it("refuses certificate devices without the CA encryption key, and creates nothing", async () => {
    const error = await refusal(
      createDevice({ prisma, actor: "x" }, { projectId: otherProjectId, serial: "NOKEY-1", authMode: "certificate" }),
    );
    expect(error.code).toBe("secrets_missing");
    expect(error.message).toMatch(/DEVICE_CA_ENCRYPTION_KEY/);
    expect(await prisma.device.count({ where: { serial: "NOKEY-1" } })).toBe(0);
  });

  it("cannot open the CA key with another encryption key", async () => {
    const other = { prisma, secrets: createSecretBox(parseEncryptionKey(generateEncryptionKey())), actor: "x" };
    const ca = await prisma.deviceCa.findFirstOrThrow({ where: { projectId: otherProjectId } });
    await expect(loadSigner(other, ca.id)).rejects.toThrow(/sealed with key/);
  });
});

describe("bulk provisioning from CSV", () => {
  it("creates every row, each with its own credentials and the mode the row asks for", async () => {
    const created = await bulkCreateDevices(ctx, {
      projectId,
      csv: "serial,name,auth\nLINE-001,Unit 1,\nLINE-002,Unit 2,cert\nLINE-003,,password\n",
      authMode: "password",
    });
    expect(created.map((c) => [c.device.serial, c.device.name, c.credentials.authMode])).toEqual([
      ["LINE-001", "Unit 1", "password"],
      ["LINE-002", "Unit 2", "certificate"],
      ["LINE-003", "LINE-003", "password"],
    ]);
    const passwords = created.flatMap((c) => (c.credentials.authMode === "password" ? [c.credentials.password] : []));
    expect(new Set(passwords).size).toBe(2);
  });

  it("creates nothing when any row is wrong and lists every problem with its line", async () => {
    const error = await refusal(
      bulkCreateDevices(ctx, { projectId, csv: "LINE-100\nLINE-001\nbad serial\nLINE-100\nLINE-101\n", authMode: "certificate" }),
    );
    expect(error.code).toBe("invalid_csv");
    expect(error.message).toMatch(/line 2 LINE-001: already registered/);
    expect(error.message).toMatch(/line 3 bad serial: .*not a valid device id/);
    expect(error.message).toMatch(/line 4 LINE-100: repeats line 1/);
    expect(await prisma.device.count({ where: { serial: { in: ["LINE-100", "LINE-101"] } } })).toBe(0);
  });
});

describe("rotating, disabling and revoking", () => {
  it("rotates a password: same device, sessions kept, old password dead", async () => {
    const created = await createDevice(ctx, { projectId, serial: "ROT-1", authMode: "password" });
    const session = await prisma.session.create({ data: { deviceId: created.device.id, projectId, name: "mission" } });
    const rotated = await rotateDeviceCredentials(ctx, { serial: "ROT-1", projectId });
    expect(rotated.device.id).toBe(created.device.id);
    const stored = await secretColumns("ROT-1");
    const oldPassword = created.credentials.authMode === "password" ? created.credentials.password : "";
    const newPassword = rotated.credentials.authMode === "password" ? rotated.credentials.password : "";
    expect(await verifyPassword(oldPassword, stored.passwordHash)).toBe(false);
    expect(await verifyPassword(newPassword, stored.passwordHash)).toBe(true);
    expect(await prisma.session.findUnique({ where: { id: session.id } })).not.toBeNull();
  });

  it("rotates a certificate: the old one is superseded after the grace period; switching to a password clears nothing else", async () => {
    const created = await createDevice(ctx, { projectId, serial: "ROT-2", authMode: "certificate" });
    const oldSerial = created.credentials.authMode === "certificate" ? created.credentials.serialNumber : "";
    const rotated = await rotateDeviceCredentials(ctx, { serial: "ROT-2", graceSeconds: 3600 });
    const newSerial = rotated.credentials.authMode === "certificate" ? rotated.credentials.serialNumber : "";
    expect(newSerial).not.toBe(oldSerial);
    const ca = await prisma.deviceCa.findFirstOrThrow({ where: { projectId, active: true } });
    expect((await crlEntries(ctx, ca.id)).map((e) => e.serialNumber)).not.toContain(oldSerial);
    const inTwoHours = new Date(Date.now() + 2 * 3600_000);
    const later = await crlEntries(ctx, ca.id, inTwoHours);
    expect(later.find((e) => e.serialNumber === oldSerial)?.reason).toBe("superseded");
    expect(later.map((e) => e.serialNumber)).not.toContain(newSerial);

    const toPassword = await rotateDeviceCredentials(ctx, { serial: "ROT-2", authMode: "password" });
    expect(toPassword.credentials.authMode).toBe("password");
    expect((await crlEntries(ctx, ca.id)).map((e) => e.serialNumber)).toContain(newSerial);
  });

  it("puts a disabled device's certificate on hold and lifts it when enabled", async () => {
    const created = await createDevice(ctx, { projectId, serial: "HOLD-1", authMode: "certificate" });
    const serial = created.credentials.authMode === "certificate" ? created.credentials.serialNumber : "";
    const ca = await prisma.deviceCa.findFirstOrThrow({ where: { projectId, active: true } });
    await setDeviceEnabled(ctx, { serial: "HOLD-1", enabled: false });
    expect((await crlEntries(ctx, ca.id)).find((e) => e.serialNumber === serial)?.reason).toBe("certificateHold");
    await setDeviceEnabled(ctx, { serial: "HOLD-1", enabled: true });
    expect((await crlEntries(ctx, ca.id)).map((e) => e.serialNumber)).not.toContain(serial);
    const actions = await prisma.deviceCredentialEvent.findMany({ where: { device: { serial: "HOLD-1" } }, orderBy: { at: "asc" } });
    expect(actions.map((event) => event.action)).toEqual(["issued", "disabled", "enabled"]);
  });

  it("revokes for good: certificates in the CRL, password erased, device disabled, files kept", async () => {
    await createDevice(ctx, { projectId, serial: "LOST-1", authMode: "password" });
    const result = await revokeDevice(ctx, { serial: "LOST-1", projectId });
    expect(result.revokedCertificates).toBe(0);
    expect(await secretColumns("LOST-1")).toMatchObject({ enabled: false, passwordHash: null, brokerPasswordHash: null });

    const cert = await createDevice(ctx, { projectId, serial: "LOST-2", authMode: "certificate" });
    const serial = cert.credentials.authMode === "certificate" ? cert.credentials.serialNumber : "";
    expect((await revokeDevice(ctx, { serial: "LOST-2" })).revokedCertificates).toBe(1);
    const ca = await prisma.deviceCa.findFirstOrThrow({ where: { projectId, active: true } });
    // Enabling it again does not un-revoke the certificate.
    await setDeviceEnabled(ctx, { serial: "LOST-2", enabled: true });
    expect((await crlEntries(ctx, ca.id)).find((e) => e.serialNumber === serial)?.reason).toBe("keyCompromise");
  });

  it("refuses to act on a device of another project", async () => {
    expect((await refusal(revokeDevice(ctx, { serial: "PW-1", projectId: otherProjectId }))).code).toBe("device_not_found");
    expect((await secretColumns("PW-1")).enabled).toBe(true);
  });

  it("signs a new CRL only when its entries changed", async () => {
    await refreshCrls(ctx);
    expect(await refreshCrls(ctx)).toBe(0);
    await setDeviceEnabled(ctx, { serial: "CERT-1", enabled: false });
    expect(await refreshCrls(ctx)).toBe(1);
    const ca = await prisma.deviceCa.findFirstOrThrow({ where: { projectId, active: true } });
    expect(ca.crlPem).toContain("BEGIN X509 CRL");
    await setDeviceEnabled(ctx, { serial: "CERT-1", enabled: true });
  });
});

describe("credential bundle", () => {
  it("holds a ready device config, the secret, the broker CA and a README per device", async () => {
    const [pw, cert] = await bulkCreateDevices(ctx, {
      projectId,
      csv: "serial,auth\nBUNDLE-1,password\nBUNDLE-2,certificate",
      authMode: "password",
    });
    const broker = {
      certificateUrl: "mqtts://mqtt.example.com:8883",
      passwordUrl: "mqtts://mqtt.example.com:8884",
      brokerCaPem: "BROKER-CA\n",
      topicPrefix: "fleetdrop",
    };
    const zip = unzipSync(createCredentialBundle([pw!, cert!], broker));
    const text = (name: string) => new TextDecoder().decode(zip[name]);
    expect(
      Object.keys(zip)
        .filter((name) => !name.endsWith("/"))
        .sort(),
    ).toEqual([
      "BUNDLE-1/README.txt",
      "BUNDLE-1/broker-ca.crt",
      "BUNDLE-1/device.json",
      "BUNDLE-1/password.txt",
      "BUNDLE-2/README.txt",
      "BUNDLE-2/broker-ca.crt",
      "BUNDLE-2/device.crt",
      "BUNDLE-2/device.json",
      "BUNDLE-2/device.key",
      "devices.csv",
    ]);
    const password = pw!.credentials.authMode === "password" ? pw!.credentials.password : "";
    expect(JSON.parse(text("BUNDLE-1/device.json"))).toEqual({
      url: "mqtts://mqtt.example.com:8884",
      deviceId: "BUNDLE-1",
      topicPrefix: "fleetdrop",
      ca: "broker-ca.crt",
      password,
    });
    expect(JSON.parse(text("BUNDLE-2/device.json"))).toEqual({
      url: "mqtts://mqtt.example.com:8883",
      deviceId: "BUNDLE-2",
      topicPrefix: "fleetdrop",
      ca: "broker-ca.crt",
      cert: "device.crt",
      key: "device.key",
    });
    expect(new X509Certificate(text("BUNDLE-2/device.crt")).subject).toBe("CN=BUNDLE-2");
    expect(text("BUNDLE-1/README.txt")).toContain("fleetdrop/fleet/BUNDLE-1/file_upload/request");
    // A new device owns no session yet: the README opens one rather than naming another device's.
    expect(text("BUNDLE-1/README.txt")).toContain("fleetdrop-device session open --config device.json");
    expect(text("BUNDLE-1/README.txt")).toContain("fleetdrop/fleet/BUNDLE-1/session/open");
    expect(text("BUNDLE-1/README.txt")).not.toMatch(/--session 1\b|"session_id":1\b/);
    expect(text("devices.csv")).not.toContain(password);
    expect(bundleFileName([pw!])).toBe("BUNDLE-1-credentials.zip");
    expect(bundleFileName([pw!, cert!])).toBe("2-devices-credentials.zip");
  });
});
