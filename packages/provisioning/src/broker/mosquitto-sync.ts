/**
 * The broker sync: keeps Mosquitto's auth files (mosquitto-files.ts) equal to the database and
 * makes Mosquitto reload them. It runs next to the broker (it needs the broker's auth folder),
 * one per broker, as `fleetdrop-admin broker sync`.
 *
 * - Woken at once by the NOTIFY that every credential change sends, and every `intervalMs`
 *   anyway: a lost notification, a change made elsewhere, a CRL nearing its nextUpdate, a grace
 *   period ending, or a broker whose files were wiped are all repaired by the next pass.
 * - Writes only files whose content changed (atomically: temporary file + rename), then bumps
 *   `generation` and calls `reload` (SIGHUP). On SIGHUP Mosquitto re-reads the password files
 *   and disconnects clients whose password no longer verifies, reloads the CRL (new TLS
 *   handshakes of revoked certificates fail) and re-applies the ACLs to connected clients.
 *   deploy/mosquitto/run.sh sends the SIGHUP inside the broker's container when `generation`
 *   changes, and restarts Mosquitto instead when `dynsec-services.json` changed (the
 *   dynamic-security plugin reads its file only at start).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { refreshCrls } from "../ca/crl";
import type { TProvisioningContext } from "../context";
import { certificatePem, createCaCertificate, createCrl, generateKeyPair } from "../crypto/x509";
import { DEVICE_AUTH_CHANNEL } from "./notify";
import { loadBrokerAuthState, renderCaFiles, renderDeviceAcl, renderPasswordFile, type TMosquittoFile } from "./mosquitto-files";
import { renderServicesDynsec, type TServiceAccount } from "./mosquitto-services";

export type TMosquittoSyncOptions = {
  ctx: TProvisioningContext;
  /** The broker's auth folder (mounted into the broker at /mosquitto/auth). */
  dir: string;
  /** The shipped device ACL (deploy/mosquitto/acl-devices). */
  aclTemplate: string;
  topicPrefix: string;
  /** One account per service instance (mosquitto-services.ts). */
  services: TServiceAccount[];
  /** PostgreSQL URL to LISTEN on (null: only the periodic pass). */
  databaseUrl: string | null;
  intervalMs?: number;
  /** Called after files changed, e.g. SIGHUP to the broker. */
  reload?: () => void | Promise<void>;
  log?: (line: string) => void;
};

export type TSyncResult = { changed: TMosquittoFile[]; crlsSigned: number };

export type TMosquittoSync = {
  syncNow(): Promise<TSyncResult>;
  stop(): Promise<void>;
};

const PLACEHOLDER = "# fleetdrop: placeholder — no project has a device CA yet";

/** Mosquitto refuses to start with an empty CA file: until a project has a device CA, trust a CA whose key was thrown away. */
async function placeholderCaFiles(): Promise<{ ca: string; crl: string }> {
  const keys = await generateKeyPair();
  const cert = await createCaCertificate({ commonName: "Fleetdrop placeholder (no device CA yet, key discarded)", keys, years: 50 });
  const crl = await createCrl({
    signer: { certificate: cert, privateKey: keys.privateKey },
    number: 1,
    nextUpdate: new Date(Date.now() + 50 * 365 * 24 * 3600_000),
    entries: [],
  });
  return { ca: `${PLACEHOLDER}\n${certificatePem(cert)}`, crl: `${PLACEHOLDER}\n${crl}` };
}

export function assertAclTemplateMatchesPrefix(template: string, topicPrefix: string): void {
  if (!template.includes(`pattern write ${topicPrefix}/fleet/%u/`) || !template.includes(`pattern read ${topicPrefix}/fleet/%u/`)) {
    throw new Error(
      `the device ACL does not bind ${topicPrefix}/fleet/%u/ (TOPIC_PREFIX=${topicPrefix}): ` +
        `edit the pattern lines of deploy/mosquitto/acl-devices to use your prefix`,
    );
  }
}

async function readOrNull(file: string): Promise<string | null> {
  return readFile(file, "utf8").catch(() => null);
}

export function createMosquittoSync(options: TMosquittoSyncOptions): TMosquittoSync {
  assertAclTemplateMatchesPrefix(options.aclTemplate, options.topicPrefix);
  const log = options.log ?? (() => {});
  let running: Promise<TSyncResult> | null = null;
  let warnedNoKey = false;
  let again = false;

  const pass = async (): Promise<TSyncResult> => {
    await mkdir(options.dir, { recursive: true });
    const crlsSigned = options.ctx.secrets ? await refreshCrls(options.ctx) : 0;
    const state = await loadBrokerAuthState(options.ctx.prisma);
    if (!options.ctx.secrets && !warnedNoKey) {
      const expiring = state.cas.filter((ca) => ca.crlPem).length;
      if (expiring > 0) {
        warnedNoKey = true;
        log(
          `DEVICE_CA_ENCRYPTION_KEY is not set: the CRLs of ${expiring} device CA(s) cannot be re-signed, ` +
            `so revocations are not applied and certificate devices are refused once the current CRLs expire`,
        );
      }
    }
    const file = (name: TMosquittoFile) => path.join(options.dir, name);
    const current = Object.fromEntries(
      await Promise.all(
        (["device-ca.pem", "device-crl.pem", "passwd-devices", "dynsec-services.json", "acl-devices"] as const).map(async (name) => [
          name,
          await readOrNull(file(name)),
        ]),
      ),
    ) as Record<TMosquittoFile, string | null>;

    let caFiles = renderCaFiles(state);
    if (!caFiles) {
      caFiles =
        current["device-ca.pem"]?.startsWith(PLACEHOLDER) && current["device-crl.pem"]?.startsWith(PLACEHOLDER)
          ? { ca: current["device-ca.pem"], crl: current["device-crl.pem"] }
          : await placeholderCaFiles();
    }
    const wanted: Record<TMosquittoFile, string> = {
      "device-ca.pem": caFiles.ca,
      "device-crl.pem": caFiles.crl,
      "passwd-devices": renderPasswordFile(
        state.passwordDevices.map((device) => ({ username: device.serial, hash: device.brokerPasswordHash })),
      ),
      "dynsec-services.json": renderServicesDynsec(options.services, options.topicPrefix, current["dynsec-services.json"]),
      "acl-devices": renderDeviceAcl(options.aclTemplate, state.blocked),
    };
    const changed: TMosquittoFile[] = [];
    for (const name of Object.keys(wanted) as TMosquittoFile[]) {
      if (current[name] === wanted[name]) continue;
      const temporary = `${file(name)}.${process.pid}.tmp`;
      await writeFile(temporary, wanted[name], { mode: name.startsWith("passwd") || name.startsWith("dynsec") ? 0o640 : 0o644 });
      await rename(temporary, file(name));
      changed.push(name);
    }
    if (changed.length > 0) {
      await writeFile(path.join(options.dir, "generation"), `${Date.now()}\n`);
      await options.reload?.();
      log(
        `broker auth files updated (${changed.join(", ")}); ` +
          `${state.passwordDevices.length} password device(s), ${state.cas.length} device CA(s), ${state.blocked.length} blocked`,
      );
    }
    return { changed, crlsSigned };
  };

  /** One pass at a time; a request during a pass runs one more pass after it. */
  const syncNow = (): Promise<TSyncResult> => {
    if (running) {
      again = true;
      return running;
    }
    running = pass().finally(() => {
      running = null;
      if (again) {
        again = false;
        void syncNow().catch((error: unknown) => log(`broker sync failed: ${(error as Error).message}`));
      }
    });
    return running;
  };

  let stopped = false;
  let listener: pg.Client | null = null;
  let debounce: NodeJS.Timeout | null = null;
  const wake = () => {
    if (debounce || stopped) return;
    debounce = setTimeout(() => {
      debounce = null;
      syncNow().catch((error: unknown) => log(`broker sync failed: ${(error as Error).message}`));
    }, 100);
  };
  const listen = async () => {
    if (!options.databaseUrl || stopped) return;
    const client = new pg.Client({ connectionString: options.databaseUrl, application_name: "fleetdrop-broker-sync" });
    client.on("notification", wake);
    client.on("error", () => {
      if (listener === client) listener = null;
      client.end().catch(() => {});
      if (!stopped)
        setTimeout(
          () =>
            void listen()
              .then(wake)
              .catch(() => {}),
          2000,
        ).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${DEVICE_AUTH_CHANNEL}`);
      listener = client;
    } catch (error) {
      log(`cannot LISTEN for credential changes (${(error as Error).message}); retrying`);
      client.end().catch(() => {});
      if (!stopped)
        setTimeout(
          () =>
            void listen()
              .then(wake)
              .catch(() => {}),
          2000,
        ).unref();
    }
  };
  void listen();
  const timer = setInterval(wake, options.intervalMs ?? 30_000);
  timer.unref();

  return {
    syncNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      await running?.catch(() => {});
      await listener?.end().catch(() => {});
    },
  };
}
