/**
 * Starts Mosquitto with the shipped deploy/mosquitto configuration (mosquitto.conf, the ACLs),
 * through the shipped run.sh, with only what a test machine needs changed: the container paths
 * point at temporary folders (and the repository's deploy/mosquitto), the dynamic-security plugin
 * at the installed one, the three listeners get free ports on 127.0.0.1, and when run as root
 * Mosquitto keeps root (it would otherwise drop to the `mosquitto` user, which cannot read the
 * temporary folders).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SHIPPED_DYNSEC_PLUGIN, dynsecPluginPath, startMosquitto, type TMosquitto } from "./mosquitto";

/** The repository's deploy/mosquitto: what the production stack mounts at /mosquitto/config. */
export const SHIPPED_MOSQUITTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../deploy/mosquitto");
const CONTAINER_DIRS = ["config", "auth", "tls", "data"] as const;

export type TShippedMosquittoDirs = {
  /** Where the broker sync writes passwords, ACLs, CA and CRL (the container's /mosquitto/auth). */
  authDir: string;
  /** Holds the broker's server.crt and server.key (the container's /mosquitto/tls). */
  tlsDir: string;
};

export type TShippedMosquitto = TShippedMosquittoDirs & {
  mosquitto: TMosquitto;
  ports: { services: number; certificates: number; passwords: number };
  /** Stops the broker and removes its folders. */
  close: () => Promise<void>;
};

export async function readShippedAclTemplate(): Promise<string> {
  return readFile(path.join(SHIPPED_MOSQUITTO_DIR, "acl-devices"), "utf8");
}

/**
 * The folders the shipped configuration reads: the server certificate written, the auth folder
 * empty, for the caller's broker sync to fill before the broker starts.
 */
export async function prepareShippedMosquitto(tls: { certPem: string; keyPem: string }): Promise<TShippedMosquittoDirs> {
  const tlsDir = await mkdtemp(path.join(tmpdir(), "fd-broker-tls-"));
  await writeFile(path.join(tlsDir, "server.crt"), tls.certPem);
  await writeFile(path.join(tlsDir, "server.key"), tls.keyPem, { mode: 0o600 });
  const authDir = await mkdtemp(path.join(tmpdir(), "fd-broker-auth-"));
  return { authDir, tlsDir };
}

export async function startShippedMosquitto(dirs: TShippedMosquittoDirs): Promise<TShippedMosquitto> {
  const mounts: Record<(typeof CONTAINER_DIRS)[number], string> = {
    config: SHIPPED_MOSQUITTO_DIR,
    auth: dirs.authDir,
    tls: dirs.tlsDir,
    data: "{{dir}}",
  };
  let config = await readFile(path.join(SHIPPED_MOSQUITTO_DIR, "mosquitto.conf"), "utf8");
  for (const name of CONTAINER_DIRS) config = config.replaceAll(`/mosquitto/${name}/`, `${mounts[name]}/`);
  config = config.replaceAll(SHIPPED_DYNSEC_PLUGIN, dynsecPluginPath());
  config = config
    .replace(/^listener 1883$/m, "listener {{port:services}} 127.0.0.1")
    .replace(/^listener 8883$/m, "listener {{port:certificates}} 127.0.0.1")
    .replace(/^listener 8884$/m, "listener {{port:passwords}} 127.0.0.1");
  if (/^listener \d+$/m.test(config) || /(^|\s)\/mosquitto\//m.test(config)) {
    throw new Error("deploy/mosquitto/mosquitto.conf has a listener or a path the test setup does not know how to rewrite");
  }
  const start = () =>
    startMosquitto({
      rawConfig: `${config}\n${process.getuid?.() === 0 ? "user root\n" : ""}`,
      extraPorts: ["services", "certificates", "passwords"],
      wrapper: {
        command: "sh",
        args: [path.join(SHIPPED_MOSQUITTO_DIR, "run.sh")],
        env: { MOSQUITTO_AUTH_DIR: dirs.authDir, MOSQUITTO_RELOAD_POLL_SECONDS: "0.2" },
      },
    });
  // The three ports are picked before Mosquitto binds them; on a busy machine another process can
  // take one in between. Try again with new ports.
  let started: TMosquitto | undefined;
  for (let attempt = 1; !started; attempt++) {
    try {
      started = await start();
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
    }
  }
  const mosquitto = started;
  return {
    ...dirs,
    mosquitto,
    ports: { services: mosquitto.ports.services!, certificates: mosquitto.ports.certificates!, passwords: mosquitto.ports.passwords! },
    close: async () => {
      await mosquitto.stop();
      await mosquitto.cleanup();
      await rm(dirs.tlsDir, { recursive: true, force: true });
      await rm(dirs.authDir, { recursive: true, force: true });
    },
  };
}
