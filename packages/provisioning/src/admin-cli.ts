/**
 * `fleetdrop-admin`: device provisioning and the broker sync from a shell (a production line's
 * script, a container next to Mosquitto). `runAdmin(argv, io)` does the work and returns an exit
 * code; bin/fleetdrop-admin.mjs only wires process.argv, env and signals.
 *
 *   fleetdrop-admin device create <serial> --project <slug> [--auth password|certificate] [--name N] [--out bundle.zip]
 *   fleetdrop-admin device bulk <devices.csv> --project <slug> [--auth …] [--out bundle.zip]
 *   fleetdrop-admin device rotate <serial> [--auth …] [--grace <seconds>] [--out bundle.zip]
 *   fleetdrop-admin device disable|enable|revoke <serial>
 *   fleetdrop-admin broker sync [--once]
 *   fleetdrop-admin ca rekey            re-seal CA keys under the current DEVICE_CA_ENCRYPTION_KEY
 *   fleetdrop-admin ca rotate --project <slug>   new device CA for new certificates (the old one stays trusted)
 *   fleetdrop-admin key generate        print a new DEVICE_CA_ENCRYPTION_KEY
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { createPrismaClient } from "@fleetdrop/db";
import { createBrokerTls } from "./ca/broker-tls";
import { resealCaKeys, rotateProjectCa } from "./ca/project-ca";
import { createMosquittoSync } from "./broker/mosquitto-sync";
import { bundleFileName, createCredentialBundle } from "./bundle/credential-bundle";
import { ProvisioningError, type TProvisioningContext } from "./context";
import { generateEncryptionKey } from "@fleetdrop/shared/crypto/secret-box";
import { bulkCreateDevices } from "./devices/bulk-create-devices";
import { createDevice, type TCreatedDevice } from "./devices/create-device";
import type { TAuthMode } from "./devices/credentials";
import { revokeDevice } from "./devices/revoke-device";
import { rotateDeviceCredentials } from "./devices/rotate-credentials";
import { setDeviceEnabled } from "./devices/set-device-enabled";
import { bundleBrokerUrls, parseProvisioningEnv, secretBoxFromEnv, type TProvisioningEnv } from "./env";

export type TAdminIo = {
  env: Record<string, string | undefined>;
  print: (line: string) => void;
  cwd: string;
  /** Resolves when the long-running `broker sync` should stop (a signal). */
  stopSignal?: Promise<void>;
};

const USAGE = `usage: fleetdrop-admin <command>
  device create <serial> --project <slug> [--auth password|certificate] [--name <name>] [--out <zip>]
  device bulk <csv file> --project <slug> [--auth password|certificate] [--out <zip>]
  device rotate <serial> [--auth password|certificate] [--grace <seconds>] [--out <zip>]
  device disable|enable|revoke <serial>
  broker sync [--once]
  ca rekey
  ca rotate --project <slug>
  key generate`;

function authOf(value: string | undefined): TAuthMode {
  if (value === undefined || value === "password") return "password";
  if (value === "certificate" || value === "cert") return "certificate";
  throw new ProvisioningError("invalid_csv", `--auth must be password or certificate, not "${value}"`);
}

async function writeBundle(io: TAdminIo, env: TProvisioningEnv, created: TCreatedDevice[], out: string | undefined) {
  const brokerCaPem = env.BROKER_CA_FILE ? await readFile(env.BROKER_CA_FILE, "utf8") : undefined;
  const zip = createCredentialBundle(created, {
    ...bundleBrokerUrls(env),
    topicPrefix: env.TOPIC_PREFIX,
    ...(brokerCaPem ? { brokerCaPem } : {}),
  });
  const file = path.resolve(io.cwd, out ?? bundleFileName(created));
  await writeFile(file, zip, { mode: 0o600 });
  io.print(`credentials bundle: ${file} (shown once; the platform keeps no copy of the secrets)`);
}

async function ensureBrokerTls(env: TProvisioningEnv, print: (line: string) => void) {
  if (!env.BROKER_TLS_DIR) return;
  const cert = path.join(env.BROKER_TLS_DIR, "server.crt");
  if (existsSync(cert)) return;
  await mkdir(env.BROKER_TLS_DIR, { recursive: true });
  const tls = await createBrokerTls({
    hosts: env.BROKER_TLS_HOSTS.split(",")
      .map((host) => host.trim())
      .filter(Boolean),
  });
  await writeFile(path.join(env.BROKER_TLS_DIR, "server.key"), tls.keyPem, { mode: 0o600 });
  await writeFile(path.join(env.BROKER_TLS_DIR, "broker-ca.crt"), tls.caPem);
  await writeFile(cert, tls.certPem);
  print(
    `created a self-signed broker certificate for ${env.BROKER_TLS_HOSTS} in ${env.BROKER_TLS_DIR} ` +
      `(devices verify it with broker-ca.crt; replace it with your own for production)`,
  );
}

export async function runAdmin(argv: string[], io: TAdminIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      project: { type: "string" },
      auth: { type: "string" },
      name: { type: "string" },
      out: { type: "string" },
      grace: { type: "string" },
      once: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [group, verb, target] = positionals;
  if (values.help || !group) {
    io.print(USAGE);
    return values.help ? 0 : 2;
  }
  if (group === "key" && verb === "generate") {
    io.print(generateEncryptionKey());
    return 0;
  }
  const env = parseProvisioningEnv(io.env);
  const prisma = createPrismaClient({ databaseUrl: env.DATABASE_URL, maxConnections: 4 });
  const ctx: TProvisioningContext = { prisma, secrets: secretBoxFromEnv(env), actor: "fleetdrop-admin" };
  try {
    const projectId = async () => {
      if (!values.project) throw new ProvisioningError("project_not_found", "--project <slug> is required");
      const project = await prisma.project.findUnique({ where: { slug: values.project }, select: { id: true } });
      if (!project) throw new ProvisioningError("project_not_found", `No project with slug ${values.project}`);
      return project.id;
    };
    const needTarget = () => {
      if (!target) throw new ProvisioningError("device_not_found", `${group} ${verb} needs a ${verb === "bulk" ? "CSV file" : "serial"}`);
      return target;
    };
    switch (`${group} ${verb}`) {
      case "device create": {
        const created = await createDevice(ctx, {
          projectId: await projectId(),
          serial: needTarget(),
          name: values.name,
          authMode: authOf(values.auth),
        });
        io.print(`created ${created.device.serial} (${created.credentials.authMode})`);
        await writeBundle(io, env, [created], values.out);
        return 0;
      }
      case "device bulk": {
        const csv = await readFile(path.resolve(io.cwd, needTarget()), "utf8");
        const created = await bulkCreateDevices(ctx, { projectId: await projectId(), csv, authMode: authOf(values.auth) });
        io.print(`created ${created.length} devices`);
        await writeBundle(io, env, created, values.out);
        return 0;
      }
      case "device rotate": {
        const rotated = await rotateDeviceCredentials(ctx, {
          serial: needTarget(),
          ...(values.auth ? { authMode: authOf(values.auth) } : {}),
          graceSeconds: values.grace ? Number(values.grace) : 0,
        });
        io.print(`new ${rotated.credentials.authMode} credentials for ${rotated.device.serial}`);
        await writeBundle(io, env, [rotated], values.out);
        return 0;
      }
      case "device disable":
      case "device enable":
        await setDeviceEnabled(ctx, { serial: needTarget(), enabled: verb === "enable" });
        io.print(`${target} ${verb}d`);
        return 0;
      case "device revoke": {
        const result = await revokeDevice(ctx, { serial: needTarget() });
        io.print(`${target} revoked (${result.revokedCertificates} certificate(s)); its sessions and files are kept`);
        return 0;
      }
      case "ca rotate": {
        const ca = await rotateProjectCa(ctx, await projectId());
        io.print(
          `new device CA ${ca.fingerprint} for ${values.project}; ` +
            `certificates of the previous CA stay valid until they expire or are rotated`,
        );
        return 0;
      }
      case "ca rekey":
        io.print(`re-sealed ${await resealCaKeys(ctx)} CA key(s)`);
        return 0;
      case "broker sync": {
        await ensureBrokerTls(env, io.print);
        const sync = createMosquittoSync({
          ctx,
          dir: env.BROKER_AUTH_DIR,
          aclTemplate: await readFile(env.BROKER_ACL_TEMPLATE, "utf8"),
          topicPrefix: env.TOPIC_PREFIX,
          services: env.MQTT_SERVICE_ACCOUNTS,
          databaseUrl: values.once ? null : env.DATABASE_URL,
          intervalMs: env.BROKER_SYNC_INTERVAL_SECONDS * 1000,
          log: io.print,
        });
        const first = await sync.syncNow();
        io.print(
          `broker auth files in ${env.BROKER_AUTH_DIR}: ${first.changed.length ? `wrote ${first.changed.join(", ")}` : "up to date"}`,
        );
        if (!values.once) {
          io.print("watching for credential changes");
          await (io.stopSignal ?? new Promise<void>(() => {}));
        }
        await sync.stop();
        return 0;
      }
      default:
        io.print(USAGE);
        return 2;
    }
  } catch (error) {
    if (error instanceof ProvisioningError) {
      io.print(`error: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await prisma.$disconnect();
  }
}
