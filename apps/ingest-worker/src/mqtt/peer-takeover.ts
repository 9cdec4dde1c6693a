/**
 * Several workers on one shared subscription ($share/<group>/…): when one stops or dies, what
 * its broker session holds must not wait for it. Mosquitto 2.0 keeps a shared subscriber's
 * unacknowledged requests in that subscriber's session, and it even goes on allocating new
 * requests to a disconnected persistent session (round robin over all members). It does not
 * hand them to the other members (MQTT 5 says it SHOULD only once the session ends).
 *
 * So the workers watch each other:
 * - Each worker's connection carries a retained Last Will on `P/workers/<id>` ("offline"),
 *   publishes "online" there when it connects, and "offline" itself when it stops gracefully.
 * - When a peer of the same group goes offline, one live worker (the lowest client id among
 *   the live ones, so normally exactly one) connects *as that peer* (same client id, session
 *   kept), receives what the session holds again, handles it like any request (handling is
 *   idempotent, so a request the dead worker had already answered is answered equivalently),
 *   unsubscribes so no new requests are allocated to that session, waits until nothing is in
 *   flight, and ends the session. The peer, when it comes back, finds no session and subscribes
 *   afresh. If the peer comes back while this happens it takes its session back (the broker
 *   disconnects the stand-in), and the stand-in gives up without ending anything.
 *
 * A broker that binds each service account to its own client id (deploy/mosquitto: one account
 * per worker instance) refuses a stand-in at CONNECT, by design: connecting as another worker is
 * exactly the impersonation it prevents. With such an account (`boundAccount`) the workers watch
 * each other on their main connection instead (`presenceFilter`, `onPresence`), and a worker
 * hands its session back itself when it stops while another worker of the group is online
 * (`shouldHandBack`, done by worker.ts: unsubscribe, answer what the session still holds, end the
 * session). A worker that dies without stopping keeps its requests in its session until it
 * starts again under the same account (the supervisor restarts it: docker-compose's
 * `restart: unless-stopped`); the others log that it went offline.
 */
import type { IPublishPacket, MqttClient } from "mqtt";
import type { Logger } from "../logger";
import { createMqttClient, type TMqttConnectionOptions } from "./connection";
import { installDeferredAcks } from "./deferred-ack";

/** "stopping": a worker deciding whether to hand its session back (counts as not online). */
export type TPresence = { clientId: string; group: string; state: "online" | "stopping" | "offline" };

export type TPeerTakeoverOptions = {
  main: MqttClient;
  connection: TMqttConnectionOptions;
  group: string;
  /** `P/workers` */
  presenceBase: string;
  /** The shared filters the workers subscribe to (unsubscribed by a stand-in before it ends the session). */
  filters: () => string[];
  handle: (packet: IPublishPacket) => Promise<void>;
  log: Logger;
  /** No message for this long (and none in flight) means a taken-over session is drained. */
  quietMs?: number;
  /** The broker binds the account to this worker's client id: no stand-ins, presence on `main`. */
  boundAccount?: boolean;
  /** How long a stopping worker waits for the others' presence before it decides (shouldHandBack). */
  stoppingWindowMs?: number;
};

export type TPeerTakeover = {
  /**
   * Publishes "offline" for this worker (graceful stop) and ends any takeover in progress;
   * `sessionEnded`: this worker ended its own session, nothing is left to drain.
   */
  stop(options?: { sessionEnded?: boolean }): Promise<void>;
  /** With a bound account: the filter `main` subscribes to for the workers' presence, else null. */
  readonly presenceFilter: string | null;
  /** Whether a message on `main` is a worker's presence (handled by onPresence, not the router). */
  isPresence(topic: string): boolean;
  onPresence(topic: string, payload: Buffer): void;
  /**
   * With a bound account, at a graceful stop: says "stopping", waits for the others' news, and
   * tells whether another worker of the group is online to take the requests over. Two workers
   * stopping together see each other stopping, and both keep their sessions.
   */
  shouldHandBack(): Promise<boolean>;
  /** Takeovers finished (for tests and metrics). */
  readonly completed: number;
};

// oxlint-disable-next-line no-control-regex -- NUL cannot appear in a topic, so it is replaced like the wildcards
const topicId = (clientId: string) => clientId.replace(/[/+#\u0000]/g, "_");

export function startPeerTakeover(options: TPeerTakeoverOptions): TPeerTakeover {
  const { main, connection, group, log } = options;
  const self = connection.clientId;
  const presenceTopic = (clientId: string) => `${options.presenceBase}/${topicId(clientId)}`;
  const payload = (state: TPresence["state"]) => JSON.stringify({ clientId: self, group, state } satisfies TPresence);
  const quietMs = options.quietMs ?? 500;

  // The broker publishes this if the worker's connection ends without a DISCONNECT.
  main.options.will = { topic: presenceTopic(self), payload: Buffer.from(payload("offline")), qos: 1, retain: true };
  main.on("connect", () => {
    main.publish(presenceTopic(self), payload("online"), { qos: 1, retain: true });
  });

  const peers = new Map<string, TPresence["state"]>();
  const active = new Map<string, MqttClient>();
  let completed = 0;
  let stopped = false;

  const takeOver = async (peer: string) => {
    if (active.has(peer) || stopped) return;
    const standIn = createMqttClient({ ...connection, clientId: peer, reconnectPeriodMs: 0 });
    active.set(peer, standIn);
    const acks = installDeferredAcks(standIn, { handle: options.handle });
    let lastMessageAt = Date.now();
    let received = 0;
    standIn.on("message", () => {
      lastMessageAt = Date.now();
      received++;
    });
    let lostIt = false;
    standIn.on("close", () => (lostIt = true));
    standIn.on("error", (error) => log.warn({ err: error, peer }, "taking over a worker's session failed"));
    try {
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        standIn.once("connect", resolve);
        standIn.once("close", () => reject(new Error("connection closed")));
        standIn.connect();
      });
      log.info({ peer, sessionPresent: connack.sessionPresent }, "a worker went offline: draining its broker session");
      if (connack.sessionPresent) {
        // No new requests for this session; what it already holds keeps coming.
        await standIn.unsubscribeAsync(options.filters());
        while (!lostIt && (acks.inFlight > 0 || Date.now() - lastMessageAt < quietMs)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      if (lostIt) {
        log.info({ peer, received }, "the worker took its session back");
        return;
      }
      // End the session: MQTT 5 lets a DISCONNECT set its expiry to 0 (the worker only starts
      // takeovers on MQTT 5; shared subscriptions need it anyway).
      await standIn.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      completed++;
      // Forget the peer's retained "offline": nothing is left to drain (it says "online" again when it returns).
      main.publish(presenceTopic(peer), "", { qos: 1, retain: true });
      log.info({ peer, received }, "drained and ended the session of a worker that went offline");
    } catch (error) {
      log.warn({ err: error, peer }, "could not take over a worker's session");
    } finally {
      active.delete(peer);
      await standIn.endAsync(true).catch(() => {});
    }
  };

  /** The lowest client id among the live workers of the group takes over. */
  const isDesignated = () =>
    [...peers]
      .filter(([, state]) => state === "online")
      .map(([id]) => id)
      .sort()[0] === self;

  const presenceFilter = `${options.presenceBase}/+`;
  /** Which client id a presence topic was last seen for: an empty retained message clears it. */
  const byTopic = new Map<string, string>();
  const onPresence = (topic: string, message: Buffer) => {
    if (message.length === 0) {
      const gone = byTopic.get(topic);
      if (gone !== undefined && gone !== self) peers.delete(gone);
      return;
    }
    let presence: TPresence;
    try {
      presence = JSON.parse(message.toString()) as TPresence;
    } catch {
      return;
    }
    if (presence?.group !== group || typeof presence.clientId !== "string") return;
    const previous = peers.get(presence.clientId);
    byTopic.set(topic, presence.clientId);
    peers.set(presence.clientId, presence.state);
    // Our own "online" may arrive after a peer's "offline" (retained): count ourselves live.
    peers.set(self, stopped ? "offline" : "online");
    if (presence.clientId === self || presence.state !== "offline" || (previous === "offline" && active.has(presence.clientId))) return;
    if (options.boundAccount) {
      if (previous === "online") {
        log.warn({ peer: presence.clientId }, "a worker went offline: requests its session holds wait until it starts again");
      }
      return;
    }
    if (isDesignated()) void takeOver(presence.clientId);
  };

  // With a bound account a second connection would need a second account: main watches instead.
  const watcher = options.boundAccount ? null : createMqttClient({ ...connection, clientId: `${self}~presence`, reconnectPeriodMs: 1000 });
  if (watcher) {
    watcher.options.clean = true;
    if (connection.protocolVersion === 5) watcher.options.properties = { sessionExpiryInterval: 0 };
    watcher.on("connect", () => {
      watcher.subscribe(presenceFilter, { qos: 1 });
    });
    watcher.on("message", (topic, message) => onPresence(topic, message));
    watcher.on("error", (error) => log.warn({ err: error }, "worker presence watcher error"));
    watcher.connect();
  }

  return {
    get completed() {
      return completed;
    },
    presenceFilter: options.boundAccount ? presenceFilter : null,
    isPresence: (topic) => Boolean(options.boundAccount) && topic.startsWith(`${options.presenceBase}/`),
    onPresence,
    async shouldHandBack() {
      if (!options.boundAccount || !main.connected) return false;
      stopped = true;
      peers.set(self, "stopping");
      await main.publishAsync(presenceTopic(self), payload("stopping"), { qos: 1, retain: true }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, options.stoppingWindowMs ?? 300));
      return [...peers].some(([id, state]) => id !== self && state === "online");
    },
    async stop(stopOptions) {
      stopped = true;
      if (main.connected) {
        // A session this worker ended holds nothing: forget its presence rather than say "offline".
        const last = stopOptions?.sessionEnded ? "" : payload("offline");
        await main.publishAsync(presenceTopic(self), last, { qos: 1, retain: true }).catch(() => {});
      }
      await Promise.all([...active.values()].map((client) => client.endAsync(true).catch(() => {})));
      await watcher?.endAsync(true).catch(() => {});
    },
  };
}
