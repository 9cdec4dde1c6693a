/**
 * The platform's own broker accounts on the services listener of deploy/mosquitto (port 1883),
 * as the configuration file of Mosquitto's dynamic-security plugin (`dynsec-services.json`).
 *
 * Every service instance (each ingest worker, the web app) has its own account, and the plugin
 * binds the account to one client id, its username: `fleetdrop-ingest:<name>` for a worker,
 * `fleetdrop-web:<name>` for the web app. A connection with any other client id is refused at
 * CONNECT (CONNACK 135), so no instance, and nobody holding one instance's password, can connect
 * as another instance and take over its session. Service client ids are never device ids (they
 * carry a `:`), and devices have no account on this listener at all.
 *
 * Password files cannot do this: their usernames cannot hold a `:`, and Mosquitto 2.0 cannot
 * tie a client id to a password-file account except by making them equal
 * (`use_username_as_clientid`).
 *
 * The roles are derived from the topic prefix, so another TOPIC_PREFIX needs no edit.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { isServiceClientId } from "@fleetdrop/shared/acl";
import { CHUNKS_ROOT, REQUEST_SUFFIXES, TRANSFER_ROOT } from "@fleetdrop/shared/topics";

export type TServiceAccount = { username: string; password: string };
export type TServiceRole = "worker" | "web";

/** Client-id (= username) prefix of each role. */
export const SERVICE_ACCOUNT_PREFIX: Record<TServiceRole, string> = { worker: "fleetdrop-ingest:", web: "fleetdrop-web:" };

/** Only the broker checks these (at connect); a service password is meant to be long and random. */
const ITERATIONS = 10_000;

export function serviceRoleOf(username: string): TServiceRole | null {
  if (!isServiceClientId(username)) return null;
  for (const role of Object.keys(SERVICE_ACCOUNT_PREFIX) as TServiceRole[]) {
    const prefix = SERVICE_ACCOUNT_PREFIX[role];
    if (username.startsWith(prefix) && username.length > prefix.length) return role;
  }
  return null;
}

/**
 * `MQTT_SERVICE_ACCOUNTS`: `<client id>=<password>` pairs separated by whitespace, e.g.
 * `fleetdrop-ingest:1=… fleetdrop-ingest:2=… fleetdrop-web:1=…`. Throws on anything else, on a
 * name that is no service client id, and on a name given twice.
 */
export function parseServiceAccounts(value: string): TServiceAccount[] {
  const accounts: TServiceAccount[] = [];
  for (const entry of value.split(/\s+/).filter(Boolean)) {
    const at = entry.indexOf("=");
    const username = at > 0 ? entry.slice(0, at) : entry;
    const password = at > 0 ? entry.slice(at + 1) : "";
    if (!serviceRoleOf(username)) {
      throw new Error(
        `"${username}" is not a service account: use ${Object.values(SERVICE_ACCOUNT_PREFIX)
          .map((prefix) => `${prefix}<name>`)
          .join(" or ")} (printable, without / + #)`,
      );
    }
    if (password.length < 8)
      throw new Error(`the password of ${username} is missing or shorter than 8 characters (<client id>=<password>)`);
    if (accounts.some((account) => account.username === username)) throw new Error(`${username} is given twice`);
    accounts.push({ username, password });
  }
  return accounts;
}

type TDynsecAcl = { acltype: "publishClientSend" | "publishClientReceive" | "subscribePattern"; topic: string; allow: true };
type TDynsecClient = {
  username: string;
  clientid: string;
  password: string;
  salt: string;
  iterations: number;
  roles: { rolename: string }[];
};

/** The topics each role needs, and nothing else (docs/brokers.md lists them). */
export function serviceRoles(topicPrefix: string): { rolename: string; acls: TDynsecAcl[] }[] {
  const fleet = `${topicPrefix}/fleet`;
  // Every request topic of the operation table, so a new operation reaches the worker without an edit here.
  const requests = [...new Set(Object.values(REQUEST_SUFFIXES)), `${TRANSFER_ROOT}/#`, `${CHUNKS_ROOT}/+`].map(
    (suffix) => `${fleet}/+/${suffix}`,
  );
  const acl = (acltype: TDynsecAcl["acltype"], topic: string): TDynsecAcl => ({ acltype, topic, allow: true });
  return [
    {
      rolename: "fleetdrop-ingest",
      acls: [
        // Requests of every device, directly or through a shared subscription of any group.
        ...requests.flatMap((topic) => [acl("subscribePattern", topic), acl("subscribePattern", `$share/+/${topic}`)]),
        ...requests.map((topic) => acl("publishClientReceive", topic)),
        // Answers and deliveries under each device's namespace.
        acl("publishClientSend", `${fleet}/#`),
        // Devices' retained birth and Last Will (docs/protocol.md#presence): every worker reads all of them.
        acl("subscribePattern", `${fleet}/+/presence`),
        acl("publishClientReceive", `${fleet}/+/presence`),
        // The embedded broker's word on device connections. Mosquitto publishes nothing there and
        // no role may: the worker subscribes wherever it runs, and is refused nothing.
        acl("subscribePattern", `${topicPrefix}/broker/presence/+`),
        acl("publishClientReceive", `${topicPrefix}/broker/presence/+`),
        // Worker presence (docs/production.md#scale-out).
        acl("subscribePattern", `${topicPrefix}/workers/#`),
        acl("publishClientReceive", `${topicPrefix}/workers/#`),
        acl("publishClientSend", `${topicPrefix}/workers/#`),
      ],
    },
    {
      rolename: "fleetdrop-web",
      acls: [
        // Commands and captures to a device; a device's retained presence (online/offline).
        acl("publishClientSend", `${fleet}/+/commands`),
        acl("subscribePattern", `${fleet}/+/presence`),
        acl("publishClientReceive", `${fleet}/+/presence`),
      ],
    },
  ];
}

const ROLE_NAME: Record<TServiceRole, string> = { worker: "fleetdrop-ingest", web: "fleetdrop-web" };

function hash(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(password, salt, iterations, 64, "sha512");
}

/** Whether `client` (an entry of the plugin's file) holds `password`. */
export function verifyDynsecPassword(password: string, client: Partial<TDynsecClient> | undefined): boolean {
  if (!client?.password || !client.salt || !client.iterations) return false;
  const expected = Buffer.from(client.password, "base64");
  const actual = hash(password, Buffer.from(client.salt, "base64"), client.iterations);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * The plugin's configuration for `accounts`, reusing each hash already in `existing` when it
 * still matches, so an unchanged account list renders the same file (Mosquitto must restart to
 * read a changed one: the plugin does not reload on SIGHUP).
 */
export function renderServicesDynsec(accounts: TServiceAccount[], topicPrefix: string, existing: string | null): string {
  let previous = new Map<string, Partial<TDynsecClient>>();
  try {
    const parsed = JSON.parse(existing ?? "{}") as { clients?: Partial<TDynsecClient>[] };
    previous = new Map((parsed.clients ?? []).map((client) => [client.username ?? "", client]));
  } catch {
    // Not ours or damaged: written afresh.
  }
  const clients: TDynsecClient[] = accounts.map(({ username, password }) => {
    const role = serviceRoleOf(username);
    if (!role) throw new Error(`"${username}" is not a service account`);
    const old = previous.get(username);
    const kept = verifyDynsecPassword(password, old) && old?.clientid === username;
    const salt = kept ? old.salt! : randomBytes(12).toString("base64");
    const iterations = kept ? old.iterations! : ITERATIONS;
    return {
      username,
      // The plugin refuses this account with any other client id.
      clientid: username,
      password: kept ? old.password! : hash(password, Buffer.from(salt, "base64"), iterations).toString("base64"),
      salt,
      iterations,
      roles: [{ rolename: ROLE_NAME[role] }],
    };
  });
  const config = {
    clients,
    groups: [],
    roles: serviceRoles(topicPrefix),
    // Whatever no role allows is refused, subscriptions included (SUBACK 135).
    defaultACLAccess: { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
