import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import { createTestDatabase, type TTestDatabase } from "@fleetdrop/db/testing";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../src/admin-cli";
import { generateEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";

/** The shipped broker configuration, whose ACL template the CLI renders. */
const DEPLOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../deploy/mosquitto");

let db: TTestDatabase;
let prisma: TPrismaClient;
let dir: string;
let env: Record<string, string>;

async function admin(...argv: string[]) {
  const lines: string[] = [];
  const code = await runAdmin(argv, { env, print: (line) => lines.push(line), cwd: dir });
  return { code, out: lines.join("\n") };
}

beforeAll(async () => {
  db = await createTestDatabase("admin-cli");
  prisma = createPrismaClient({ databaseUrl: db.url, maxConnections: 2 });
  await prisma.project.create({ data: { slug: "factory", name: "Factory" } });
  dir = await mkdtemp(path.join(tmpdir(), "fd-admin-"));
  env = {
    DATABASE_URL: db.url,
    DEVICE_CA_ENCRYPTION_KEY: generateEncryptionKey(),
    BROKER_AUTH_DIR: path.join(dir, "auth"),
    BROKER_ACL_TEMPLATE: path.join(DEPLOY_DIR, "acl-devices"),
    BROKER_TLS_DIR: path.join(dir, "tls"),
    BROKER_CERTIFICATE_URL: "mqtts://mqtt.factory.test:8883",
    MQTT_SERVICE_ACCOUNTS: "fleetdrop-ingest:1=worker-1-secret\nfleetdrop-ingest:2=worker-2-secret fleetdrop-web:1=web-secret",
  };
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("fleetdrop-admin", () => {
  it("creates a certificate device and writes its bundle", async () => {
    const { code, out } = await admin("device", "create", "CLI-1", "--project", "factory", "--auth", "certificate", "--out", "cli-1.zip");
    expect(code).toBe(0);
    expect(out).toContain("created CLI-1 (certificate)");
    const zip = unzipSync(await readFile(path.join(dir, "cli-1.zip")));
    expect(JSON.parse(new TextDecoder().decode(zip["CLI-1/device.json"]))).toMatchObject({
      url: "mqtts://mqtt.factory.test:8883",
      deviceId: "CLI-1",
    });
  });

  it("provisions a CSV batch and refuses a bad one with the lines to fix", async () => {
    await writeFile(path.join(dir, "batch.csv"), "serial\nCLI-10\nCLI-11\n");
    const ok = await admin("device", "bulk", "batch.csv", "--project", "factory");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("2-devices-credentials.zip");
    await writeFile(path.join(dir, "bad.csv"), "serial\nCLI-12\nCLI-10\n");
    const bad = await admin("device", "bulk", "bad.csv", "--project", "factory");
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/line 3 CLI-10: already registered/);
    expect(await prisma.device.count({ where: { serial: "CLI-12" } })).toBe(0);
  });

  it("says what is wrong with a missing project or serial", async () => {
    expect((await admin("device", "create", "CLI-2", "--project", "nope")).out).toContain("No project with slug nope");
    expect((await admin("device", "disable", "NOPE-1")).out).toContain("No device NOPE-1");
    expect((await admin("device", "create", "CLI-3", "--project", "factory", "--auth", "token")).out).toContain(
      "--auth must be password or certificate",
    );
  });

  it("writes the broker's files once, with a self-signed broker certificate when none is there", async () => {
    await admin("device", "disable", "CLI-10");
    const { code, out } = await admin("broker", "sync", "--once");
    expect(code).toBe(0);
    expect(out).toContain("created a self-signed broker certificate");
    const file = (name: string) => readFile(path.join(dir, "auth", name), "utf8");
    const services = JSON.parse(await file("dynsec-services.json")) as {
      clients: { username: string; clientid: string; roles: unknown }[];
    };
    expect(services.clients.map(({ username, clientid, roles }) => ({ username, clientid, roles }))).toEqual([
      { username: "fleetdrop-ingest:1", clientid: "fleetdrop-ingest:1", roles: [{ rolename: "fleetdrop-ingest" }] },
      { username: "fleetdrop-ingest:2", clientid: "fleetdrop-ingest:2", roles: [{ rolename: "fleetdrop-ingest" }] },
      { username: "fleetdrop-web:1", clientid: "fleetdrop-web:1", roles: [{ rolename: "fleetdrop-web" }] },
    ]);
    expect(await file("passwd-devices")).toMatch(/^CLI-11:\$7\$/m);
    expect(await file("passwd-devices")).not.toContain("CLI-10");
    expect(await file("acl-devices")).toContain("user CLI-10\ntopic deny #");
    expect(await file("device-ca.pem")).toContain("BEGIN CERTIFICATE");
    expect(await file("device-crl.pem")).toContain("BEGIN X509 CRL");
    expect(await readFile(path.join(dir, "tls", "server.crt"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect((await admin("broker", "sync", "--once")).out).toContain("up to date");
  });

  it("rotates a project's device CA and re-seals CA keys after a key change", async () => {
    const before = await prisma.deviceCa.findFirstOrThrow({ where: { project: { slug: "factory" }, active: true } });
    const rotated = await admin("ca", "rotate", "--project", "factory");
    expect(rotated.code).toBe(0);
    const after = await prisma.deviceCa.findFirstOrThrow({ where: { project: { slug: "factory" }, active: true } });
    expect(after.id).not.toBe(before.id);
    expect(rotated.out).toContain(after.fingerprint);
    // Both CAs stay in the broker's trust bundle.
    await admin("broker", "sync", "--once");
    const bundle = await readFile(path.join(dir, "auth", "device-ca.pem"), "utf8");
    expect(bundle).toContain(before.fingerprint);
    expect(bundle).toContain(after.fingerprint);

    const oldKey = env.DEVICE_CA_ENCRYPTION_KEY!;
    env = { ...env, DEVICE_CA_ENCRYPTION_KEY: generateEncryptionKey(), DEVICE_CA_ENCRYPTION_KEY_PREVIOUS: oldKey };
    expect((await admin("ca", "rekey")).out).toContain("re-sealed 2 CA key(s)");
    env = { ...env, DEVICE_CA_ENCRYPTION_KEY_PREVIOUS: "" };
    const issued = await admin("device", "create", "CLI-AFTER-REKEY", "--project", "factory", "--auth", "certificate");
    expect(issued.code).toBe(0);
  });

  it("warns when the broker sync runs without the CA key while certificate devices exist", async () => {
    const withoutKey = env;
    env = { ...env, DEVICE_CA_ENCRYPTION_KEY: "" };
    try {
      const { code, out } = await admin("broker", "sync", "--once");
      expect(code).toBe(0);
      expect(out).toMatch(/DEVICE_CA_ENCRYPTION_KEY is not set: the CRLs of 2 device CA\(s\) cannot be re-signed/);
    } finally {
      env = withoutKey;
    }
  });

  it("prints a fresh encryption key", async () => {
    const { out } = await admin("key", "generate");
    expect(Buffer.from(out.trim(), "base64")).toHaveLength(32);
  });
});
