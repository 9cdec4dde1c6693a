/**
 * Mosquitto as shipped (deploy/mosquitto: mosquitto.conf, the ACLs, run.sh), with its auth files
 * written by the platform's own broker sync from the suite's database.
 */
import type { TPrismaClient } from "@fleetdrop/db";
import { createMosquittoSync } from "@fleetdrop/provisioning/broker/mosquitto-sync";
import { createBrokerTls } from "@fleetdrop/provisioning/ca/broker-tls";
import type { TMosquitto } from "@fleetdrop/test-broker";
import { prepareShippedMosquitto, readShippedAclTemplate, startShippedMosquitto } from "@fleetdrop/test-broker/shipped-mosquitto";

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
  const dirs = await prepareShippedMosquitto(tls);
  // The services listener binds an account to its client id: the suite's worker connects as this.
  const workerAccount = { username: workerClientId, password: "fault-suite-worker-password" };

  const sync = createMosquittoSync({
    ctx: { prisma, actor: "fault-suite" },
    dir: dirs.authDir,
    aclTemplate: await readShippedAclTemplate(),
    topicPrefix: "fleetdrop",
    services: [workerAccount],
    databaseUrl: null,
    intervalMs: 3_600_000,
  });
  await sync.syncNow();
  await sync.stop();

  const shipped = await startShippedMosquitto(dirs);
  return { mosquitto: shipped.mosquitto, caPem: tls.caPem, ports: shipped.ports, workerAccount, close: shipped.close };
}
