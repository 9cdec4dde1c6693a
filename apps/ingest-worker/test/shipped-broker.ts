/**
 * Starts Mosquitto with the shipped deploy/mosquitto configuration, through the shipped run.sh,
 * with only what a test machine needs changed: the container paths point at temporary folders
 * (and the repository's deploy/mosquitto), the dynamic-security plugin at the installed one, the three listeners get free ports on 127.0.0.1, and
 * when the test runs as root Mosquitto keeps root (it would otherwise drop to the `mosquitto`
 * user, which cannot read the temporary folders).
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SHIPPED_DYNSEC_PLUGIN, dynsecPluginPath, startMosquitto, type TMosquitto } from "@fleetdrop/test-broker";
import { createBrokerTls, type TBrokerTls } from "@fleetdrop/provisioning/ca/broker-tls";

export const DEPLOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../deploy/mosquitto");

export type TShippedBroker = {
  broker: TMosquitto;
  tls: TBrokerTls;
  authDir: string;
  ports: { services: number; certificates: number; passwords: number };
};

export async function readShippedAclTemplate(): Promise<string> {
  return readFile(path.join(DEPLOY_DIR, "acl-devices"), "utf8");
}

export async function prepareShippedBroker(): Promise<{ tls: TBrokerTls; authDir: string; tlsDir: string }> {
  const tls = await createBrokerTls({ hosts: ["localhost", "127.0.0.1"] });
  const tlsDir = await mkdtemp(path.join(tmpdir(), "fd-broker-tls-"));
  await writeFile(path.join(tlsDir, "server.crt"), tls.certPem);
  await writeFile(path.join(tlsDir, "server.key"), tls.keyPem, { mode: 0o600 });
  const authDir = await mkdtemp(path.join(tmpdir(), "fd-broker-auth-"));
  return { tls, authDir, tlsDir };
}

export async function startShippedBroker(prepared: { tls: TBrokerTls; authDir: string; tlsDir: string }): Promise<TShippedBroker> {
  const shipped = await readFile(path.join(DEPLOY_DIR, "mosquitto.conf"), "utf8");
  const config = shipped
    .replaceAll("/mosquitto/config/", `${DEPLOY_DIR}/`)
    .replaceAll("/mosquitto/auth/", `${prepared.authDir}/`)
    .replaceAll("/mosquitto/tls/", `${prepared.tlsDir}/`)
    .replaceAll("/mosquitto/data/", "{{dir}}/")
    .replaceAll(SHIPPED_DYNSEC_PLUGIN, dynsecPluginPath())
    .replace(/^listener 1883$/m, "listener {{port:services}} 127.0.0.1")
    .replace(/^listener 8883$/m, "listener {{port:certificates}} 127.0.0.1")
    .replace(/^listener 8884$/m, "listener {{port:passwords}} 127.0.0.1");
  for (const port of [1883, 8883, 8884]) {
    if (new RegExp(`^listener ${port}$`, "m").test(config)) throw new Error(`listener ${port} was not rewritten`);
  }
  const start = () =>
    startMosquitto({
      rawConfig: `${config}\n${process.getuid?.() === 0 ? "user root\n" : ""}`,
      extraPorts: ["services", "certificates", "passwords"],
      wrapper: {
        command: "sh",
        args: [path.join(DEPLOY_DIR, "run.sh")],
        env: { MOSQUITTO_AUTH_DIR: prepared.authDir, MOSQUITTO_RELOAD_POLL_SECONDS: "0.2" },
      },
    });
  // Three free ports are picked before Mosquitto binds them; on a busy machine another process
  // can take one in between. Try again with new ports.
  let broker: TMosquitto | undefined;
  for (let attempt = 1; !broker; attempt++) {
    try {
      broker = await start();
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
    }
  }
  return {
    broker,
    tls: prepared.tls,
    authDir: prepared.authDir,
    ports: { services: broker.ports.services!, certificates: broker.ports.certificates!, passwords: broker.ports.passwords! },
  };
}
