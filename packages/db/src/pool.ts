/**
 * A plain pg pool for the worker's hot paths, where one hand-written statement per batch of
 * requests beats ORM round trips. Same database, same schema as the Prisma client.
 */
import pg from "pg";

export type TPgPoolOptions = {
  databaseUrl: string;
  max?: number;
  applicationName?: string;
  /** Fail a query that waits this long for a connection (ms). */
  connectionTimeoutMillis?: number;
  /** Server settings for every connection, e.g. { statement_timeout: "5s" }. */
  settings?: Record<string, string>;
};

export function createPgPool({
  databaseUrl,
  max = 10,
  applicationName = "fleetdrop",
  connectionTimeoutMillis = 5000,
  settings = {},
}: TPgPoolOptions): pg.Pool {
  const options = Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value.replace(/[\\ ]/g, (ch) => `\\${ch}`)}`)
    .join(" ");
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    application_name: applicationName,
    connectionTimeoutMillis,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...(options ? { options } : {}),
  });
  // An idle client losing its connection (database restart) must not crash the process;
  // the next query reconnects.
  pool.on("error", () => {});
  // The same for a client that is checked out (a transaction, an advisory lock held across
  // queries, a LISTEN) between two queries: pg emits its lost connection as an 'error' event,
  // which would be thrown with no listener. The holder's next query fails instead, and the pool
  // drops the client when it is released (it is no longer queryable).
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);

const CONNECTION_LOST_MESSAGE = new RegExp(
  [
    "Connection terminated",
    "timeout exceeded when trying to connect",
    "Client has encountered a connection error",
    "connection is closed",
  ].join("|"),
  "i",
);

/** True when an error means the database is unreachable (retry later), not a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, message } = error as { code?: string; message?: string };
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  return CONNECTION_LOST_MESSAGE.test(message ?? "");
}

export type { Pool, PoolClient } from "pg";
