/**
 * The embedded MQTT broker (Aedes, in-process) with the platform's identity rules: a device
 * connects with its id as username and its password, which is checked against the database;
 * it may publish only under `P/fleet/{its id}/` and subscribe only to `P/fleet/{its id}/#`.
 * The ingest worker and the web app use service accounts with the topics each needs (the roles
 * of deploy/mosquitto's services listener). Disabled or deleted devices are refused at connect
 * and cut off within seconds while connected.
 *
 * Client ids are bound at CONNECT (`@fleetdrop/shared/acl`): a device connects as its id or
 * `<id>/<suffix>`; a service account, one per service instance as on the shipped Mosquitto,
 * only with its own client id, which is its username (`fleetdrop-ingest:embedded`) and never a
 * device id. Otherwise any client could take over another's session (Aedes disconnects the older
 * connection).
 *
 * Aedes speaks MQTT 3.1.1 (MQTT 5 clients are refused); the worker connects with protocol 4.
 */
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { verifyPassword } from "@fleetdrop/db/passwords";
import {
  canPublish,
  canSubscribe,
  isDeviceClientId,
  isServiceClientId,
  SERVICE_CLIENT_ID_RULE,
  type TBrokerIdentity,
  type TServiceRole,
} from "@fleetdrop/shared/acl";
import { isValidDeviceId } from "@fleetdrop/shared/names";
import { PRESENCE_REFRESH_SECONDS } from "@fleetdrop/shared/protocol/commands";
import { createTopics } from "@fleetdrop/shared/topics";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import type pg from "pg";

export type TServiceAccount = {
  /** Also the only client id the account may connect with; must pass isServiceClientId. */
  username: string;
  password: string;
  name: TServiceRole;
};

/** The embedded platform's service instances: one worker, one web app. */
export const EMBEDDED_WORKER_ACCOUNT = "fleetdrop-ingest:embedded";
export const EMBEDDED_WEB_ACCOUNT = "fleetdrop-web:embedded";

export type TEmbeddedBrokerOptions = {
  host: string;
  port: number;
  topicPrefix: string;
  pool: pg.Pool;
  serviceAccounts: TServiceAccount[];
  log: (line: string) => void;
  /** How often connected devices are re-checked against the database (ms). */
  recheckIntervalMs?: number;
  /** How often the presence of connected devices is repeated (ms; default PRESENCE_REFRESH_SECONDS). */
  presenceRefreshMs?: number;
};

export type TEmbeddedBroker = { url: string; port: number; close(): Promise<void> };

type TDeviceRow = { password_hash: string | null; enabled: boolean; auth_mode: string };

const identities = new WeakMap<Client, TBrokerIdentity>();
/** The password hash a device client was admitted with: a rotation changes it and cuts the client off. */
const credentialOf = new WeakMap<Client, string>();

/** CONNACK codes (MQTT 3.1.1): 2 identifier rejected, 3 server unavailable, 4 bad username or password, 5 not authorized. */
function authError(message: string, returnCode: 2 | 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: TEmbeddedBrokerOptions): Promise<TEmbeddedBroker> {
  // Successful checks are remembered briefly so a reconnect storm does not run scrypt each time.
  const verified = new Map<string, number>();
  const cacheKey = (serial: string, password: Buffer, storedHash: string) =>
    `${serial}\u0000${createHash("sha256").update(password).update("\u0000").update(storedHash).digest("hex")}`;

  for (const account of options.serviceAccounts) {
    if (!isServiceClientId(account.username)) throw new Error(`service account ${account.username}: ${SERVICE_CLIENT_ID_RULE}`);
  }
  const broker = await Aedes.createBroker({
    concurrency: 1000,
    authenticate: (client, username, password, done) => {
      const service = options.serviceAccounts.find((account) => account.username === username);
      if (service) {
        if (password?.toString("utf8") !== service.password) {
          done(authError("bad service credentials", 4), false);
        } else if (client.id !== service.username) {
          done(authError(`the service account ${service.username} connects only with its own client id`, 2), false);
        } else {
          identities.set(client, { kind: "service", name: service.name });
          done(null, true);
        }
        return;
      }
      if (!username || !isValidDeviceId(username) || !password) {
        done(authError("devices sign in with their id as username and their password", 4), false);
        return;
      }
      // Checked before the database: a device may never take over another client's session.
      if (!isDeviceClientId(username, client.id)) {
        done(authError("a device connects with its id (or <id>/<suffix>) as client id", 2), false);
        return;
      }
      options.pool
        .query<TDeviceRow>("SELECT password_hash, enabled, auth_mode::text AS auth_mode FROM devices WHERE serial = $1", [username])
        .then(async ({ rows: [device] }) => {
          if (!device || device.auth_mode !== "password" || !device.password_hash) {
            done(authError("bad username or password", 4), false);
            return;
          }
          // The stored hash is part of the key: a rotated password misses the cache at once.
          const key = cacheKey(username, password, device.password_hash);
          if (!((verified.get(key) ?? 0) > Date.now()) && !(await verifyPassword(password.toString("utf8"), device.password_hash))) {
            done(authError("bad username or password", 4), false);
            return;
          }
          if (!device.enabled) {
            done(authError("device is disabled", 5), false);
            return;
          }
          if (verified.size > 10_000) for (const [old, until] of verified) if (until <= Date.now()) verified.delete(old);
          verified.set(key, Date.now() + 60_000);
          identities.set(client, { kind: "device", deviceId: username });
          credentialOf.set(client, device.password_hash);
          done(null, true);
        })
        .catch((error: unknown) => {
          // Not "bad username or password": the device's credentials may well be right.
          options.log(`cannot check device credentials: ${(error as Error).message}`);
          done(authError("server unavailable", 3), false);
        });
    },
    authorizePublish: (client, packet, callback) => {
      if (!client) return callback(null); // the broker's own messages
      const identity = identities.get(client);
      if (identity && canPublish(identity, options.topicPrefix, packet.topic)) return callback(null);
      callback(new Error(`${identity?.kind === "device" ? identity.deviceId : "client"} may not publish to ${packet.topic}`));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const identity = identities.get(client);
      if (identity && canSubscribe(identity, options.topicPrefix, subscription.topic)) return callback(null, subscription);
      callback(null, null); // refused: SUBACK failure for this filter
    },
  });

  // Cut off devices that were disabled, deleted or given new credentials while connected.
  const recheck = setInterval(() => {
    const connected = new Map<string, Client[]>();
    for (const client of Object.values((broker as unknown as { clients: Record<string, Client> }).clients)) {
      const identity = identities.get(client);
      if (identity?.kind === "device") connected.set(identity.deviceId, [...(connected.get(identity.deviceId) ?? []), client]);
    }
    if (connected.size === 0) return;
    options.pool
      .query<{ serial: string; password_hash: string | null }>(
        "SELECT serial, password_hash FROM devices WHERE serial = ANY($1) AND enabled AND auth_mode = 'password'",
        [[...connected.keys()]],
      )
      .then(({ rows }) => {
        const allowed = new Map(rows.map((row) => [row.serial, row.password_hash]));
        for (const [serial, clients] of connected) {
          const current = allowed.get(serial);
          for (const client of clients) {
            if (current && credentialOf.get(client) === current) continue;
            client.close();
            options.log(`disconnected ${serial}: the device is disabled, deleted or has new credentials`);
          }
          if (!current) for (const [key] of verified) if (key.startsWith(`${serial}\u0000`)) verified.delete(key);
        }
      })
      .catch(() => {});
  }, options.recheckIntervalMs ?? 3000);
  recheck.unref();

  // Presence (docs/protocol.md#presence): the broker knows when a device's connections come and
  // go, Last Will or not, and says so on P/broker/presence/D, where no client may publish. A device
  // is online while any of its connections is; the word is repeated so that it expires, like a
  // device's own birth message, should this process die without saying goodbye.
  const topics = createTopics(options.topicPrefix);
  const connections = new Map<string, Set<Client>>();
  const announce = (deviceId: string, online: boolean) =>
    broker.publish(
      {
        cmd: "publish",
        topic: topics.brokerPresence(deviceId),
        payload: Buffer.from(JSON.stringify({ online, at: new Date().toISOString() })),
        qos: 1,
        retain: true,
        dup: false,
      },
      () => {},
    );
  broker.on("client", (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== "device") return;
    const held = connections.get(identity.deviceId) ?? new Set<Client>();
    held.add(client);
    connections.set(identity.deviceId, held);
    if (held.size === 1) announce(identity.deviceId, true);
  });
  broker.on("clientDisconnect", (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== "device") return;
    const held = connections.get(identity.deviceId);
    if (!held?.delete(client) || held.size > 0) return;
    connections.delete(identity.deviceId);
    announce(identity.deviceId, false);
  });
  const presenceRefresh = setInterval(
    () => {
      for (const deviceId of connections.keys()) announce(deviceId, true);
    },
    options.presenceRefreshMs ?? PRESENCE_REFRESH_SECONDS * 1000,
  );
  presenceRefresh.unref();

  const server: Server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return {
    url: `mqtt://${host}:${options.port}`,
    port: options.port,
    close: async () => {
      clearInterval(recheck);
      clearInterval(presenceRefresh);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
