/**
 * Mosquitto as shipped (deploy/mosquitto: mosquitto.conf, the ACLs, run.sh), with its auth files
 * written by the platform's own broker sync from the suite's database. Only what a test machine
 * needs is changed: the container paths point at temporary folders and the repository's
 * deploy/mosquitto, the three listeners get free ports on 127.0.0.1, and as root Mosquitto keeps
 * root (it would drop to a `mosquitto` user that cannot read the temporary folders).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TPrismaClient } from "@fleetdrop/db";
import { createMosquittoSync } from "@fleetdrop/provisioning/broker/mosquitto-sync";
import { createBrokerTls } from "@fleetdrop/provisioning/ca/broker-tls";
import { SHIPPED_DYNSEC_PLUGIN, dynsecPluginPath, startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import { root } from "../worker-process";

const DEPLOY_DIR = path.join(root, "deploy/mosquitto");
const CONTAINER_DIRS = ["config", "auth", "tls", "data"] as const;

export type TSuiteBroker = {
  mosquitto: TMosquitto;
  /** The CA that signed the broker's TLS certificate: what devices trust. */
  caPem: string;
  ports: { services: number; certificates: number; passwords: number };
  workerAccount: { username: string; password: string };
  close(): Promise<void>;
};

/** `workerClientId`: the worker's service account, which is also the only client id it may use. */
export async function startSuiteBroker(prisma: TPrismaClient, workerClientId = "fleetdrop-ingest:faults"): Promise<TSuiteBroker> {
  const tls = await createBrokerTls({ hosts: ["localhost", "127.0.0.1"] });
  const tlsDir = await mkdtemp(path.join(tmpdir(), "fd-faults-tls-"));
  await writeFile(path.join(tlsDir, "server.crt"), tls.certPem);
  await writeFile(path.join(tlsDir, "server.key"), tls.keyPem, { mode: 0o600 });
  const authDir = await mkdtemp(path.join(tmpdir(), "fd-faults-auth-"));
  // The services listener binds an account to its client id: the suite's worker connects as this.
  const workerAccount = { username: workerClientId, password: "fault-suite-worker-password" };

  const sync = createMosquittoSync({
    ctx: { prisma, actor: "fault-suite" },
    dir: authDir,
    aclTemplate: await readFile(path.join(DEPLOY_DIR, "acl-devices"), "utf8"),
    topicPrefix: "fleetdrop",
    services: [workerAccount],
    databaseUrl: null,
    intervalMs: 3_600_000,
  });
  await sync.syncNow();
  await sync.stop();

  const dirs: Record<(typeof CONTAINER_DIRS)[number], string> = { config: DEPLOY_DIR, auth: authDir, tls: tlsDir, data: "{{dir}}" };
  let config = await readFile(path.join(DEPLOY_DIR, "mosquitto.conf"), "utf8");
  for (const name of CONTAINER_DIRS) config = config.replaceAll(`/mosquitto/${name}/`, `${dirs[name]}/`);
  config = config.replaceAll(SHIPPED_DYNSEC_PLUGIN, dynsecPluginPath());
  config = config
    .replace(/^listener 1883$/m, "listener {{port:services}} 127.0.0.1")
    .replace(/^listener 8883$/m, "listener {{port:certificates}} 127.0.0.1")
    .replace(/^listener 8884$/m, "listener {{port:passwords}} 127.0.0.1");
  if (/^listener \d+$/m.test(config) || /(^|\s)\/mosquitto\//m.test(config)) {
    throw new Error("deploy/mosquitto/mosquitto.conf has a listener or a path this suite does not know how to rewrite");
  }
  const start = () =>
    startMosquitto({
      rawConfig: `${config}\n${process.getuid?.() === 0 ? "user root\n" : ""}`,
      extraPorts: ["services", "certificates", "passwords"],
      wrapper: {
        command: "sh",
        args: [path.join(DEPLOY_DIR, "run.sh")],
        env: { MOSQUITTO_AUTH_DIR: authDir, MOSQUITTO_RELOAD_POLL_SECONDS: "0.2" },
      },
    });
  // The ports are picked before Mosquitto binds them: another process may take one in between.
  let mosquitto: TMosquitto | undefined;
  for (let attempt = 1; !mosquitto; attempt++) {
    try {
      mosquitto = await start();
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
    }
  }
  const broker = mosquitto;
  return {
    mosquitto: broker,
    caPem: tls.caPem,
    ports: { services: broker.ports.services!, certificates: broker.ports.certificates!, passwords: broker.ports.passwords! },
    workerAccount,
    async close() {
      await broker.stop();
      await broker.cleanup();
      await rm(tlsDir, { recursive: true, force: true });
      await rm(authDir, { recursive: true, force: true });
    },
  };
}
