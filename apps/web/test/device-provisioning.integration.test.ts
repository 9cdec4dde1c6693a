/**
 * Device provisioning from the dashboard's domain functions (packages/provisioning underneath):
 * password or certificate devices with a one-time bundle, CSV batches, rotation, revocation,
 * and the role checks.
 */
import "./provisioning-env";
import { X509Certificate } from "node:crypto";
import { verifyPassword } from "@fleetdrop/db/passwords";
import { verifyMosquittoPassword } from "@fleetdrop/provisioning/crypto/mosquitto-password";
import { unzipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { ZDeviceBulkSchema, ZDeviceProvisionSchema, ZDeviceRotateSchema } from "@/lib/device-credential-forms";
import { bulkCreateDevices } from "@/server/devices/bulk-create-devices";
import { createDevice } from "@/server/devices/create-device";
import { certificateDevicesAvailable } from "@/server/devices/provisioning";
import { postDevices, ZDevicesApiAnswerSchema } from "@/server/devices/devices-api";
import { createWithProject } from "@/server/auth/with-project";
import { CAN } from "@/lib/roles";
import { revokeDevice } from "@/server/devices/revoke-device";
import { rotateDeviceCredentials } from "@/server/devices/rotate-device-credentials";
import { setDeviceEnabled } from "@/server/devices/set-device-enabled";
import { getDeviceCredentials } from "@/server/devices/get-device-credentials";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { contextFor, makeProject, makeSession, makeUser, prisma } from "./fixtures";
import type { TUserProjectContext } from "@/server/auth/project-context";

let admin: TUserProjectContext;
let member: TUserProjectContext;
let otherAdmin: TUserProjectContext;

const unzip = (base64: string) => unzipSync(Buffer.from(base64, "base64"));
const text = (zip: Record<string, Uint8Array>, name: string) => new TextDecoder().decode(zip[name]);

async function refusal(work: Promise<unknown>) {
  return work.then(
    () => null,
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  const [a, m, o] = [await makeUser(), await makeUser(), await makeUser()];
  const project = await makeProject([
    { user: a, role: "admin" },
    { user: m, role: "member" },
  ]);
  const other = await makeProject([{ user: o, role: "admin" }]);
  admin = contextFor(a, project, "admin");
  member = contextFor(m, project, "member");
  otherAdmin = contextFor(o, other, "admin");
});

describe("adding a device", () => {
  it("issues a password shown once, usable by the broker too, with a bundle that holds a ready config", async () => {
    const created = await createDevice({ ctx: admin, serial: "WEB-PW-1", name: "Arm", authMode: "password" });
    expect(created).toMatchObject({ serial: "WEB-PW-1", authMode: "password", bundle: { fileName: "WEB-PW-1-credentials.zip" } });
    const stored = await prisma().device.findUniqueOrThrow({
      where: { serial: "WEB-PW-1" },
      select: { passwordHash: true, brokerPasswordHash: true },
    });
    expect(await verifyPassword(created.password!, stored.passwordHash)).toBe(true);
    expect(verifyMosquittoPassword(created.password!, stored.brokerPasswordHash)).toBe(true);
    const zip = unzip(created.bundle.base64);
    expect(JSON.parse(text(zip, "WEB-PW-1/device.json"))).toMatchObject({
      url: "mqtts://mqtt.example.test:8884",
      deviceId: "WEB-PW-1",
      password: created.password,
    });
    expect(await prisma().auditLog.findFirst({ where: { action: "device.create", targetId: "WEB-PW-1" } })).toMatchObject({
      details: { name: "Arm", authMode: "password" },
    });
  });

  it("issues a client certificate (CN = serial) and its key only in the bundle", async () => {
    expect(certificateDevicesAvailable()).toEqual({ available: true });
    const created = await createDevice({ ctx: admin, serial: "WEB-CERT-1", name: "Cam", authMode: "certificate" });
    expect(created.password).toBeUndefined();
    const zip = unzip(created.bundle.base64);
    expect(new X509Certificate(text(zip, "WEB-CERT-1/device.crt")).subject).toBe("CN=WEB-CERT-1");
    expect(text(zip, "WEB-CERT-1/device.key")).toContain("BEGIN PRIVATE KEY");
    expect(JSON.parse(text(zip, "WEB-CERT-1/device.json"))).toMatchObject({
      url: "mqtts://mqtt.example.test:8883",
      cert: "device.crt",
      key: "device.key",
    });
    expect(await prisma().deviceCertificate.count({ where: { commonName: "WEB-CERT-1", revokedAt: null } })).toBe(1);
  });

  it("puts a taken or reserved serial on the serial field, without naming the other project", async () => {
    const taken = await refusal(createDevice({ ctx: otherAdmin, serial: "WEB-PW-1", name: "x" }));
    expect(taken).toBeInstanceOf(UserInputError);
    expect(taken).toMatchObject({ field: "serial", message: "A device with this serial is already registered" });
    expect(await refusal(createDevice({ ctx: admin, serial: "fleetdrop-worker", name: "x" }))).toMatchObject({
      field: "serial",
      message: expect.stringMatching(/reserved/),
    });
  });

  it("refuses members", async () => {
    expect(await refusal(createDevice({ ctx: member, serial: "WEB-NOPE", name: "x" }))).toBeInstanceOf(ForbiddenError);
    expect(await refusal(bulkCreateDevices({ ctx: member, csv: "WEB-NOPE", authMode: "password" }))).toBeInstanceOf(ForbiddenError);
    expect(await refusal(rotateDeviceCredentials({ ctx: member, serial: "WEB-PW-1" }))).toBeInstanceOf(ForbiddenError);
    expect(await refusal(revokeDevice({ ctx: member, serial: "WEB-PW-1" }))).toBeInstanceOf(ForbiddenError);
    expect(await prisma().device.count({ where: { serial: "WEB-NOPE" } })).toBe(0);
  });
});

describe("adding devices from a CSV", () => {
  it("registers the batch and returns one bundle with a folder per device", async () => {
    const batch = await bulkCreateDevices({
      ctx: admin,
      csv: "serial,name,auth\nWEB-L-1,Line 1,\nWEB-L-2,Line 2,certificate\n",
      authMode: "password",
    });
    expect(batch).toMatchObject({ count: 2, serials: ["WEB-L-1", "WEB-L-2"], bundle: { fileName: "2-devices-credentials.zip" } });
    const zip = unzip(batch.bundle.base64);
    expect(Object.keys(zip)).toEqual(expect.arrayContaining(["WEB-L-1/password.txt", "WEB-L-2/device.crt", "devices.csv"]));
  });

  it("creates nothing from a CSV with bad rows and says which lines to fix", async () => {
    const error = await refusal(bulkCreateDevices({ ctx: admin, csv: "WEB-L-3\nWEB-L-1\nno good\n", authMode: "password" }));
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).field).toBe("csv");
    expect((error as Error).message).toMatch(/line 2 WEB-L-1: already registered/);
    expect((error as Error).message).toMatch(/line 3 no good/);
    expect(await prisma().device.count({ where: { serial: "WEB-L-3" } })).toBe(0);
    expect(await refusal(bulkCreateDevices({ ctx: admin, csv: "serial,auth\nWEB-L-4,token", authMode: "password" }))).toMatchObject({
      field: "csv",
      message: expect.stringMatching(/line 2: auth must be/),
    });
  });

  it("validates the forms the same way in the browser", () => {
    expect(ZDeviceBulkSchema.safeParse({ csv: "  ", auth: "password" }).success).toBe(false);
    expect(ZDeviceProvisionSchema.safeParse({ serial: "A-1", name: "a", auth: "token" }).success).toBe(false);
    expect(ZDeviceProvisionSchema.parse({ serial: "A-1", name: "a" }).auth).toBe("password");
    expect(ZDeviceRotateSchema.safeParse({ serial: "A-1", graceHours: "-1" }).success).toBe(false);
    expect(ZDeviceRotateSchema.parse({ serial: "A-1", graceHours: "24" })).toEqual({ serial: "A-1", auth: "keep", graceHours: 24 });
  });
});

describe("rotating and revoking", () => {
  it("rotates a password: the old one stops working, sessions stay", async () => {
    const created = await createDevice({ ctx: admin, serial: "WEB-ROT", name: "r" });
    const device = await prisma().device.findUniqueOrThrow({ where: { serial: "WEB-ROT" }, select: { id: true } });
    const session = await makeSession(device, admin.project.id);
    const rotated = await rotateDeviceCredentials({ ctx: admin, serial: "WEB-ROT" });
    const stored = await prisma().device.findUniqueOrThrow({ where: { serial: "WEB-ROT" }, select: { passwordHash: true } });
    expect(await verifyPassword(created.password!, stored.passwordHash)).toBe(false);
    expect(await verifyPassword(rotated.password!, stored.passwordHash)).toBe(true);
    expect(await prisma().session.count({ where: { id: session.id } })).toBe(1);
    expect(await prisma().auditLog.count({ where: { action: "device.rotate_credentials", targetId: "WEB-ROT" } })).toBe(1);
  });

  it("switches a password device to a certificate", async () => {
    const rotated = await rotateDeviceCredentials({ ctx: admin, serial: "WEB-ROT", authMode: "certificate" });
    expect(rotated.authMode).toBe("certificate");
    expect(
      await prisma().device.findUniqueOrThrow({ where: { serial: "WEB-ROT" }, select: { authMode: true, passwordHash: true } }),
    ).toEqual({ authMode: "certificate", passwordHash: null });
  });

  it("revokes: certificate in the CRL, device disabled; a device of another project is not found", async () => {
    expect(await revokeDevice({ ctx: admin, serial: "WEB-CERT-1" })).toEqual({ revokedCertificates: 1 });
    expect(await prisma().device.findUniqueOrThrow({ where: { serial: "WEB-CERT-1" }, select: { enabled: true } })).toEqual({
      enabled: false,
    });
    expect(await prisma().deviceCertificate.findFirst({ where: { commonName: "WEB-CERT-1" }, select: { revocationReason: true } })).toEqual(
      { revocationReason: "keyCompromise" },
    );
    expect(await refusal(revokeDevice({ ctx: otherAdmin, serial: "WEB-PW-1" }))).toBeInstanceOf(NotFoundError);
    expect(await refusal(rotateDeviceCredentials({ ctx: otherAdmin, serial: "WEB-PW-1" }))).toBeInstanceOf(NotFoundError);
  });

  it("records disable/enable in the credential history the broker sync follows", async () => {
    await setDeviceEnabled({ ctx: admin, serial: "WEB-PW-1", enabled: false });
    await setDeviceEnabled({ ctx: admin, serial: "WEB-PW-1", enabled: true });
    const events = await prisma().deviceCredentialEvent.findMany({
      where: { device: { serial: "WEB-PW-1" } },
      orderBy: { at: "asc" },
      select: { action: true, actorLabel: true },
    });
    expect(events.map((event) => event.action)).toEqual(["issued", "disabled", "enabled"]);
    expect(events[1]!.actorLabel).toBe(admin.user.email);
    expect(await refusal(setDeviceEnabled({ ctx: otherAdmin, serial: "WEB-PW-1", enabled: false }))).toBeInstanceOf(NotFoundError);
  });
});

describe("POST /api/p/{project}/devices (scripts)", () => {
  const call = (ctx: TUserProjectContext, body: string, contentType: string, query = "") => {
    const POST = createWithProject({ getUser: async () => ctx.user })(postDevices, { role: CAN.manageDevices });
    const request = new Request(`http://localhost/api/p/${ctx.project.slug}/devices${query}`, {
      method: "POST",
      body,
      headers: { "content-type": contentType },
    });
    return POST(request, { params: Promise.resolve({ project: ctx.project.slug }) });
  };

  it("creates one device from JSON and answers its credentials and bundle", async () => {
    const response = await call(admin, JSON.stringify({ serial: "API-1", name: "From a script", auth: "certificate" }), "application/json");
    expect(response.status).toBe(201);
    const body = ZDevicesApiAnswerSchema.parse(await response.json());
    expect(body.devices).toEqual([{ serial: "API-1", authMode: "certificate" }]);
    expect(Object.keys(unzip(body.bundle.base64))).toContain("API-1/device.crt");
  });

  it("creates a CSV batch and answers the zip itself with ?format=zip", async () => {
    const response = await call(admin, "API-2\nAPI-3\n", "text/csv", "?format=zip");
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/zip");
    expect(response.headers.get("content-disposition")).toContain("2-devices-credentials.zip");
    const zip = unzipSync(new Uint8Array(await response.arrayBuffer()));
    expect(Object.keys(zip)).toEqual(expect.arrayContaining(["API-2/password.txt", "API-3/password.txt", "devices.csv"]));
  });

  it("answers bad input with 400 and the reason, and refuses members with 403", async () => {
    const bad = await call(admin, JSON.stringify({ serial: "bad serial", name: "x" }), "application/json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/serial: Use letters, digits/);
    const csv = await call(admin, "API-4\nAPI-2\n", "text/csv");
    expect(csv.status).toBe(400);
    expect(((await csv.json()) as { error: string }).error).toMatch(/line 2 API-2: already registered/);
    expect((await call(admin, "API-5", "text/csv", "?auth=token")).status).toBe(400);
    expect((await call(admin, "<xml/>", "application/xml")).status).toBe(400);
    expect((await call(member, JSON.stringify({ serial: "API-6", name: "x" }), "application/json")).status).toBe(403);
    expect(await prisma().device.count({ where: { serial: { in: ["API-4", "API-5", "API-6"] } } })).toBe(0);
  });
});

describe("the device's credentials card", () => {
  it("lists the certificates (an old one valid until its grace period ends) and the history, for admins only", async () => {
    await createDevice({ ctx: admin, serial: "WEB-CARD", name: "c", authMode: "certificate" });
    await rotateDeviceCredentials({ ctx: admin, serial: "WEB-CARD", graceHours: 24 });
    const card = await getDeviceCredentials({ ctx: admin, serial: "WEB-CARD" });
    expect(card.authMode).toBe("certificate");
    expect(card.certificates).toHaveLength(2);
    expect(card.certificates[0]!.revokedAt).toBeNull();
    expect(card.certificates[1]).toMatchObject({ revocationReason: "superseded" });
    expect(new Date(card.certificates[1]!.revokedAt!).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(card.events.map((event) => event.action)).toEqual(["rotated", "issued"]);
    expect(card.events[0]!.actor).toBe(admin.user.email);
    expect(await refusal(getDeviceCredentials({ ctx: member, serial: "WEB-CARD" }))).toBeInstanceOf(ForbiddenError);
    expect(await refusal(getDeviceCredentials({ ctx: otherAdmin, serial: "WEB-CARD" }))).toBeInstanceOf(NotFoundError);
  });
});
