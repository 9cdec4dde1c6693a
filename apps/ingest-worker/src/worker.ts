/**
 * `createIngestWorker(deps)` builds the worker from its parts; `index.ts` only wires the
 * environment, the logger and signals. Tests and the embedded platform start it the same way.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createPgPool } from "@fleetdrop/db/pool";
import { REQUEST_SUFFIXES, createTopics, type TRequestKind } from "@fleetdrop/shared/topics";
import type { Store } from "@fleetdrop/storage/store";
import type { TAdmitPart, TAdmitUpload } from "@fleetdrop/storage/fs-upload-endpoint";
import type { THttpConnectionLimits } from "@fleetdrop/storage/http-connection-limits";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MqttClient } from "mqtt";
import { createWriteCoalescer } from "./mqtt/coalesce-writes";
import { recordFormUpload } from "./digests/form-digest";
import { createDigestFeature } from "./digests/feature";
import { composeFeatures, type TWorkerFeature } from "./feature";
import { createUploadFeature, type TRecoverySettings } from "./handlers/feature";
import { createUploadAdmission } from "./handlers/upload-admission";
import { createHttpServer, type THealth } from "./http/server";
import { createDeviceActivityFeature } from "./jobs/device-activity";
import { DEFAULT_RECHECK_MAX_MS } from "./jobs/pending-sweeper";
import type { Logger } from "./logger";
import { createMetrics } from "./metrics";
import { createMqttClient, type TMqttConnectionOptions } from "./mqtt/connection";
import { installDeferredAcks } from "./mqtt/deferred-ack";
import { startPeerTakeover, type TPeerTakeover } from "./mqtt/peer-takeover";
import { watchSessionHealth } from "./mqtt/session-health";
import { pgSubscriptionRecord, planSubscriptions } from "./mqtt/session-subscriptions";
import { createRouter } from "./router";
import { createRateLimiter, DEFAULT_RATE_LIMITS, type TRateLimitSettings } from "./rate-limit";
import type { TNamedStores } from "./stores/named-stores";
import { createStoreFeature } from "./stores/feature";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import { isServiceClientId } from "@fleetdrop/shared/acl";
import { createTransferFeature, type TTransferSettings } from "./transfer/feature";
import { createChunkFeature, type TChunkSettings } from "./chunks/feature";
import { createMultipartFeature, type TMultipartSettings } from "./multipart/feature";
import { createPresenceFeature, type TPresenceSettings } from "./presence/feature";
import type { TPresenceChange } from "./presence/record";
import { createRetentionFeature } from "./retention/feature";
import type { TRetentionSettings } from "./retention/run";
import { createWebhookFeature, type TWebhookSettings } from "./webhooks/feature";

const TRANSPORT_ERRORS = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
export type TIngestWorkerConfig = {
  databaseUrl: string;
  dbPoolSize: number;
  /** Upload-request batches in flight at once; fewer means larger batches and fewer commits. */
  dbBatchConcurrency?: number;
  mqtt: TMqttConnectionOptions & { sharedGroup?: string };
  topicPrefix: string;
  maxUploadMb: number;
  uploadExpiresInSeconds: number;
  /** null: no HTTP server (tests that do not need one). */
  http: { host: string; port: number; limits?: THttpConnectionLimits } | null;
  sweepIntervalMs: number;
  /** Recovery after a crash or outage (PENDING_RECOVERY_SECONDS, STALE_TEMP_FILE_SECONDS); defaults below. */
  recovery?: Partial<TRecoverySettings>;
  /** How long a named store's download URL stays valid (default 3600 s). */
  downloadExpiresInSeconds?: number;
  /** File transfer limits and clean-up (file transfer over MQTT); defaults in transfer/feature.ts. */
  transfer?: Partial<TTransferSettings>;
  /** Multipart uploads over HTTPS: limits and expiry; defaults in multipart/feature.ts. */
  multipart?: Partial<TMultipartSettings>;
  /** Chunk forwarding (outbox and delivery); defaults in chunks/feature.ts. */
  chunks?: Partial<TChunkSettings>;
  /** Webhook delivery (docs/api.md#webhooks); defaults in webhooks/feature.ts. */
  webhooks?: Partial<TWebhookSettings>;
  /** Retention runs (docs/retention.md); null: this worker runs none. */
  retention?: TRetentionSettings | null;
  /** Per-device rate limits by class (rate-limit.ts); unset: the defaults; null: none. */
  rateLimits?: TRateLimitSettings | null;
  /** Device presence expiry (presence/feature.ts); defaults there. */
  presence?: Partial<TPresenceSettings>;
};

export type { TRecoverySettings } from "./handlers/feature";

const DEFAULT_RECOVERY_SETTINGS: TRecoverySettings = { pendingRecheckMaxMs: DEFAULT_RECHECK_MAX_MS, staleTempFileMs: 40_000 };

/** A worker handing its session back: no message for this long (and none in flight) means it holds nothing more. */
const HAND_BACK_QUIET_MS = 500;

export type TStoredEvent = {
  key: string;
  size: number;
  etag: string;
  contentType?: string;
  /** SHA-256 hex of the stored bytes (the fs store hashes every upload). */
  sha256?: string;
  /** The fs store that holds it. */ store?: Store;
};

export type TIngestWorkerDeps = {
  config: TIngestWorkerConfig;
  logger: Logger;
  store: Store;
  /** Named stores (config, apps, incoming, contents, status); none: no store requests. */
  namedStores?: TNamedStores;
  /**
   * Extra HTTP routes (the fs store's endpoint). Receives the callback that records an object
   * the endpoint stored, so completion is instant with the fs store.
   */
  httpRoutes?: (
    onObjectStored: (event: TStoredEvent) => Promise<void>,
    /** Refuses uploads of used forms and into closed sessions (handlers/upload-admission.ts). */
    admitUpload: TAdmitUpload,
    /** Refuses parts of multipart uploads that are not open, or whose session was closed (multipart/feature.ts). */
    admitPart: TAdmitPart,
  ) => (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The rate limits' clock in milliseconds (tests move it by hand); default: performance.now. */
  now?: () => number;
  /** Called once for each device that goes online or offline (presence/transition.ts). */
  onPresenceChange?: (change: TPresenceChange) => void;
};

export type TIngestWorker = {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly mqtt: MqttClient;
  readonly metrics: ReturnType<typeof createMetrics>;
  /** The bound HTTP address (after start). */
  httpAddress(): AddressInfo | null;
  /** Runs the pending-file sweeper once now (tests, admin tooling). */
  sweepNow(): Promise<void>;
  /** Runs the multipart sweep (expiry, interrupted completions, orphans) once now. */
  multipartSweepNow(): Promise<{ aborted: number; completed: number; orphans: number }>;
  /** Computes the SHA-256 of every uploaded file due for it now (digests/hasher.ts). */
  hashNow(): Promise<void>;
  /** Resolves once every presence message received so far is recorded. */
  presenceSettled(): Promise<void>;
  /** Runs the file transfer clean-up (TRANSFER_TTL) once now. */
  cleanUpTransfersNow(): Promise<{ expired: number; purgedSegments: number; stagingFilesRemoved?: number }>;
};

const KINDS = Object.keys(REQUEST_SUFFIXES) as TRequestKind[];

export function createIngestWorker({
  config,
  logger,
  store,
  namedStores,
  httpRoutes,
  now,
  onPresenceChange,
}: TIngestWorkerDeps): TIngestWorker {
  const topics = createTopics(config.topicPrefix);
  const metrics = createMetrics();
  const pool = createPgPool({
    databaseUrl: config.databaseUrl,
    max: config.dbPoolSize,
    applicationName: "fleetdrop-ingest",
    settings: {
      // A stuck query answers 503 instead of holding a device forever.
      statement_timeout: "10s",
      lock_timeout: "5s",
    },
  });
  const mqtt = createMqttClient(config.mqtt);
  const coalesceWrites = createWriteCoalescer(mqtt);
  const log = logger;
  const recovery = { ...DEFAULT_RECOVERY_SETTINGS, ...config.recovery };
  const digests = createDigestFeature({ pool, store, log });
  const { hasher } = digests;
  const activity = createDeviceActivityFeature({ pool });
  const storeFeature = createStoreFeature({
    pool,
    stores: namedStores ?? new Map(),
    maxUploadMb: config.maxUploadMb,
    uploadExpiresInSeconds: config.uploadExpiresInSeconds,
    downloadExpiresInSeconds: config.downloadExpiresInSeconds ?? 3600,
    log: logger,
  });
  const uploads = createUploadFeature({
    pool,
    store,
    otherStores: [...(namedStores?.values() ?? [])].map((entry) => entry.store),
    metrics,
    log,
    hasher,
    storeCompletion: storeFeature.completion,
    maxUploadMb: config.maxUploadMb,
    uploadExpiresInSeconds: config.uploadExpiresInSeconds,
    dbBatchConcurrency: config.dbBatchConcurrency ?? 1,
    dbPoolSize: config.dbPoolSize,
    sweepIntervalMs: config.sweepIntervalMs,
    recovery,
    beforeSettle: coalesceWrites,
  });
  const multipart = createMultipartFeature({
    pool,
    store,
    settings: config.multipart,
    urlExpiresInSeconds: config.uploadExpiresInSeconds,
    log,
    hasher,
    onCompleted: () => metrics.filesCompleted.inc({ state: "uploaded", via: "device" }),
  });
  const transfers = createTransferFeature({
    // Each fin being assembled holds up to two connections: keep them well inside the pool.
    settings: { maxConcurrentAssemblies: Math.max(1, Math.floor(config.dbPoolSize / 3)), ...config.transfer },
    topics,
    pool,
    store,
    registry: metrics.registry,
    log,
    onStored: () => metrics.filesCompleted.inc({ state: "uploaded", via: "mqtt_transfer" }),
  });
  const presence = createPresenceFeature({
    topics,
    pool,
    log,
    settings: config.presence,
    onChange: onPresenceChange,
  });
  const retention = config.retention === undefined ? { intervalMs: 3_600_000, batchSize: 50 } : config.retention;
  // Started in this order and stopped in the reverse one (feature.ts): device activity is written
  // once more after every feature that answers requests has stopped, and the hasher stops after
  // the features that record files for it.
  const features: TWorkerFeature[] = [
    activity,
    digests,
    uploads,
    multipart,
    storeFeature,
    transfers,
    createChunkFeature({ settings: config.chunks, topics, pool, registry: metrics.registry, log }),
    presence,
    createWebhookFeature({ settings: config.webhooks, pool, registry: metrics.registry, log }),
    ...(retention ? [createRetentionFeature({ pool, store, namedStores, settings: retention, log })] : []),
  ];
  const composed = composeFeatures(features, log);

  const dispatch = createRouter({
    routes: composed.routes.map((entry) => entry.route),
    topics,
    handlers: composed.handlers,
    metrics,
    logger: log,
    onDeviceSeen: activity.onDeviceSeen,
    onRefused: activity.onRefused,
    rateLimiter: config.rateLimits === null ? null : createRateLimiter(config.rateLimits ?? DEFAULT_RATE_LIMITS, now),
    publish: (topic, payload, properties, settled) => {
      mqtt.publish(topic, payload, { qos: 1, ...(config.mqtt.protocolVersion === 5 && properties ? { properties } : {}) }, (error) => {
        if (error) log.warn({ err: error, topic }, "response not delivered to the broker");
        settled?.(error);
      });
    },
  });

  let draining = false;
  const acks = installDeferredAcks(mqtt, {
    handle: (packet) => {
      if (takeover?.isPresence(packet.topic)) {
        takeover.onPresence(packet.topic, packet.payload as Buffer);
        return Promise.resolve();
      }
      if (presence.handles(packet.topic)) return presence.onMessage(packet);
      return transfers.budget.track(packet, dispatch(packet));
    },
    isDraining: () => draining,
  });
  let lastMessageAt = 0;
  mqtt.on("message", (topic) => {
    if (!takeover?.isPresence(topic) && !presence.handles(topic)) lastMessageAt = Date.now();
  });
  transfers.budget.install(mqtt);
  // Several workers on one shared subscription: a peer that stops or dies leaves requests in its
  // broker session, and one of the others drains them (mqtt/peer-takeover.ts).
  let takeover: TPeerTakeover | null = null;
  // A service account the broker binds to this client id (deploy/mosquitto): no stand-ins.
  const boundAccount = Boolean(config.mqtt.username && isServiceClientId(config.mqtt.username));
  const startTakeover = () => {
    const group = config.mqtt.sharedGroup;
    if (!group || config.mqtt.protocolVersion !== 5) return;
    takeover = startPeerTakeover({
      main: mqtt,
      connection: config.mqtt,
      group,
      presenceBase: `${topics.prefix}/workers`,
      filters: () => [...KINDS.map((kind) => topics.requestFilter(kind, group)), ...routeFilters(group)],
      handle: (packet) => transfers.budget.track(packet, dispatch(packet)),
      log,
      boundAccount,
    });
  };

  const routeFilters = (group: string | undefined) => composed.routes.map((entry) => entry.filter(group));
  let subscribed = false;
  let subscribeError: string | undefined;
  const subscriptionRecord = pgSubscriptionRecord(pool);
  const sessionHealth = watchSessionHealth(mqtt, { disconnects: metrics.brokerDisconnects, expectsSession: () => subscribed, log });
  const requestFilters = () => [
    ...KINDS.map((kind) => topics.requestFilter(kind, config.mqtt.sharedGroup)),
    ...routeFilters(config.mqtt.sharedGroup),
  ];
  const wantedFilters = () => [...requestFilters(), ...(takeover?.presenceFilter ? [takeover.presenceFilter] : []), ...presence.filters];
  /** Reconnects once with a clean start (what the present session holds is unknown). */
  let cleanStart: "none" | "clean" | "persistent" = "none";
  const reconnectWith = (clean: boolean) => {
    if (draining) return; // stopping: never revive the connection
    mqtt.end(false, () => {
      if (draining) return;
      mqtt.options.clean = clean;
      mqtt.reconnect();
    });
  };
  const subscribe = async (sessionPresent: boolean) => {
    const wanted = wantedFilters();
    const plan = await planSubscriptions({ record: subscriptionRecord, clientId: config.mqtt.clientId, sessionPresent, wanted });
    if (plan.action === "clean-start") {
      log.warn("the broker holds a session for this client id whose subscriptions are unknown: starting it clean");
      cleanStart = "clean";
      reconnectWith(true);
      return;
    }
    if (plan.stale.length > 0) {
      await mqtt.unsubscribeAsync(plan.stale);
      log.info({ filters: plan.stale }, "unsubscribed filters the session held from an earlier configuration");
    }
    // A kept session's filters are dropped and taken again: Mosquitto 2.0 (per_listener_settings)
    // restores a persistent session after its own restart with shared subscriptions that look
    // held but receive nothing, and subscribing again alone does not mend them. The two packets
    // go out back to back, so the broker sees no gap in which a request finds no subscriber.
    // Both are awaited together: a connection that closes rejects both, and neither may be left
    // unobserved.
    const renewed = sessionPresent ? mqtt.unsubscribeAsync(wanted) : Promise.resolve();
    const subscribing = mqtt
      .subscribeAsync(Object.fromEntries(wanted.map((filter) => [filter, { qos: 1 as const }])))
      .catch((error: { packet?: { granted?: number[] } }) => {
        const codes = error.packet?.granted;
        if (!codes) throw error;
        return codes.map((qos, index) => ({ topic: wanted[index]!, qos }));
      });
    const [, granted] = await Promise.all([renewed, subscribing]);
    // Device presence is not worth refusing requests over: a broker that refuses its topics (an
    // ACL without them) leaves presence unrecorded, and says so.
    const refusedPresence = granted.filter((grant) => grant.qos > 2 && presence.filters.includes(grant.topic));
    if (refusedPresence.length > 0)
      log.error(
        { filters: refusedPresence.map((grant) => grant.topic) },
        "the broker refused the presence topics: device presence is not recorded",
      );
    const refused = granted.filter((grant) => grant.qos > 2 && !presence.filters.includes(grant.topic));
    if (refused.length > 0)
      throw Object.assign(new Error(`broker refused ${refused.map((grant) => grant.topic).join(", ")}`), { refusedByBroker: true });
    await subscriptionRecord.write(config.mqtt.clientId, wanted);
    subscribed = true;
    subscribeError = undefined;
    log.info({ filters: wanted }, "subscribed to device requests");
    for (const waiter of subscribeWaiters.splice(0)) waiter();
  };
  mqtt.on("connect", (connack) => {
    metrics.brokerConnected.set(1);
    log.info({ sessionPresent: connack.sessionPresent }, "connected to the MQTT broker");
    if (cleanStart === "clean") {
      // MQTT 3.1.1: a clean session is not kept; connect once more for an empty persistent one.
      cleanStart = "persistent";
      if (config.mqtt.protocolVersion === 4) {
        reconnectWith(false);
        return;
      }
      mqtt.options.clean = false;
    }
    // Subscribe on every connect, also to a session the broker kept (see subscribe()).
    subscribe(connack.sessionPresent).catch((error: Error & { refusedByBroker?: boolean }) => {
      subscribeError = error.message;
      // A refusal is the broker's configuration (ACL): retrying would not change it.
      if (error.refusedByBroker) {
        log.error({ err: error }, "could not subscribe to the request topics");
        return;
      }
      log.error({ err: error }, "could not subscribe to the request topics; reconnecting to try again");
      setTimeout(() => mqtt.connected && reconnectWith(false), 2000).unref();
    });
  });
  mqtt.on("close", () => metrics.brokerConnected.set(0));
  mqtt.on("offline", () => log.warn("MQTT broker unreachable; reconnecting"));
  // A dropped or refused connection is one the client recovers from by reconnecting (a broker
  // restart): a warning. Anything else (a refused CONNECT, a protocol error) needs an operator.
  mqtt.on("error", (error) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && TRANSPORT_ERRORS.has(code)) log.warn({ err: error }, "MQTT connection lost; reconnecting");
    else log.error({ err: error }, "MQTT error");
  });
  const subscribeWaiters: (() => void)[] = [];

  const onObjectStored = async (event: TStoredEvent) => {
    if (await storeFeature.onObjectStored(event)) return;
    const parsed = parseSessionObjectKey(event.key);
    if (!parsed) return;
    // The fs store reports the digest of every upload it stored (and refused other bytes than a form's).
    const { marked } = await recordFormUpload(
      pool,
      { store, hasher, log },
      { ...parsed, objectKey: event.key, size: event.size, etag: event.etag, contentType: event.contentType },
      { reported: event.sha256, expected: null },
      "storage",
    );
    if (marked?.changed) metrics.filesCompleted.inc({ state: "uploaded", via: "storage" });
    if (!marked) log.warn({ key: event.key }, "storage holds an object of a session that does not belong to its device");
  };

  const admitUpload = createUploadAdmission({ pool, sessionStore: store });

  let lastDbCheck = { at: 0, ok: false, detail: "" };
  const health = async (): Promise<THealth> => {
    if (Date.now() - lastDbCheck.at > 1000) {
      try {
        await pool.query("SELECT 1");
        lastDbCheck = { at: Date.now(), ok: true, detail: "" };
      } catch (error) {
        lastDbCheck = { at: Date.now(), ok: false, detail: (error as Error).message };
      }
    }
    const session = sessionHealth.status();
    const broker = {
      ok: session.ok && subscribed,
      ...(session.ok
        ? subscribeError
          ? { detail: subscribeError }
          : subscribed
            ? {}
            : { detail: "not subscribed yet" }
        : { detail: session.detail }),
    };
    const database = { ok: lastDbCheck.ok, ...(lastDbCheck.ok ? {} : { detail: lastDbCheck.detail }) };
    return { ok: broker.ok && database.ok, checks: { broker, database } };
  };

  let server: Server | null = null;

  return {
    mqtt,
    metrics,
    httpAddress: () => (server?.address() as AddressInfo | null) ?? null,
    sweepNow: async () => {
      await uploads.sweep();
    },
    cleanUpTransfersNow: () => transfers.cleanUp(),
    multipartSweepNow: () => multipart.sweep(),
    hashNow: () => hasher.drain(),
    presenceSettled: () => presence.settled(),
    async start() {
      if (config.http) {
        server = createHttpServer({
          registry: metrics.registry,
          health,
          extra: httpRoutes?.(onObjectStored, admitUpload, multipart.admitPart),
          limits: config.http.limits,
        });
        await new Promise<void>((resolve, reject) => {
          server!.once("error", reject);
          server!.listen(config.http!.port, config.http!.host, () => {
            server!.off("error", reject);
            resolve();
          });
        });
        log.info({ address: server.address() }, "HTTP server listening (/healthz, /metrics)");
      }
      composed.start();
      const ready = new Promise<void>((resolve) => subscribeWaiters.push(resolve));
      startTakeover();
      mqtt.connect();
      await ready;
    },
    async stop() {
      // With a bound account no other worker can drain this worker's session: while another one
      // is online, hand it back (no new requests for it, answer what it holds, end it). The last
      // worker keeps its session: requests wait there until a worker is back.
      const handBack = subscribed && mqtt.connected && (await takeover?.shouldHandBack()) === true;
      let drained = false;
      if (handBack) {
        log.info("stopping: another worker is online; handing this worker's broker session back");
        await mqtt.unsubscribeAsync(requestFilters()).catch(() => {});
        const deadline = Date.now() + 10_000;
        const busy = () => acks.inFlight > 0 || Date.now() - lastMessageAt < HAND_BACK_QUIET_MS;
        while (Date.now() < deadline && mqtt.connected && busy()) await new Promise((resolve) => setTimeout(resolve, 50));
        // Still receiving at the deadline: the session keeps the rest (it is not ended below).
        drained = mqtt.connected && !busy();
      }
      const lastBeforeDraining = lastMessageAt;
      draining = true;
      log.info({ inFlight: acks.inFlight }, "stopping: no new requests, finishing those in flight");
      await Promise.race([acks.idle(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await composed.stop();
      // A message that came while draining was not acknowledged: the session must keep it.
      const endSession = drained && mqtt.connected && acks.inFlight === 0 && lastMessageAt === lastBeforeDraining;
      await takeover?.stop({ sessionEnded: endSession });
      // MQTT 5 lets a DISCONNECT set the session's expiry to 0: the broker drops it at once.
      await mqtt.endAsync(false, endSession ? { properties: { sessionExpiryInterval: 0 } } : {}).catch(() => {});
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await pool.end().catch(() => {});
      log.info("stopped");
    },
  };
}
