/**
 * `createIngestWorker(deps)` builds the worker from its parts; `index.ts` only wires the
 * environment, the logger and signals. Tests and the embedded platform start it the same way.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createPgPool } from "@fleetdrop/db/pool";
import { REQUEST_SUFFIXES, createTopics, type TRequestKind } from "@fleetdrop/shared/topics";
import type { Store } from "@fleetdrop/storage/store";
import type { TAdmitUpload } from "@fleetdrop/storage/fs-upload-endpoint";
import type { THttpConnectionLimits } from "@fleetdrop/storage/http-connection-limits";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MqttClient } from "mqtt";
import { Batcher } from "./batcher";
import { createWriteCoalescer } from "./mqtt/coalesce-writes";
import { touchDevices } from "./db/devices";
import { countPendingFiles, recordStoredObject } from "./db/files";
import { createUploadAdmission } from "./handlers/upload-admission";
import { recordUploadRequests, type TUploadOutcome, type TUploadRow } from "./db/upload-requests";
import { createUploadCompleteHandler } from "./handlers/upload-complete";
import { createUploadRequestHandler } from "./handlers/upload-request";
import { createSessionCloseHandler, createSessionOpenHandler } from "./handlers/sessions";
import { createHttpServer, type THealth } from "./http/server";
import { sweepPendingFiles } from "./jobs/pending-sweeper";
import { startPeriodic, type TPeriodic } from "./jobs/periodic";
import type { Logger } from "./logger";
import { createMetrics } from "./metrics";
import { createMqttClient, type TMqttConnectionOptions } from "./mqtt/connection";
import { installDeferredAcks } from "./mqtt/deferred-ack";
import { startPeerTakeover, type TPeerTakeover } from "./mqtt/peer-takeover";
import { createRouter, type THandler } from "./router";
import type { TNamedStores } from "./stores/named-stores";
import { installStoreFeature } from "./stores/feature";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import { createTransferFeature, type TTransferSettings } from "./transfer/feature";
import { createChunkFeature, type TChunkSettings } from "./chunks/feature";

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
  /** Spec §4: how long a named store's download URL stays valid (default 3600 s). */
  downloadExpiresInSeconds?: number;
  /** Spec §2 limits and clean-up (file transfer over MQTT); defaults in transfer/feature.ts. */
  transfer?: Partial<TTransferSettings>;
  /** Spec §3 chunk forwarding (outbox and delivery); defaults in chunks/feature.ts. */
  chunks?: Partial<TChunkSettings>;
};

export type TStoredEvent = { key: string; size: number; etag: string; contentType?: string; /** The fs store that holds it. */ store?: Store };

export type TIngestWorkerDeps = {
  config: TIngestWorkerConfig;
  logger: Logger;
  store: Store;
  /** Spec §4 named stores (config, apps, incoming, contents, status); none: no store requests. */
  namedStores?: TNamedStores;
  /**
   * Extra HTTP routes (the fs store's endpoint). Receives the callback that records an object
   * the endpoint stored, so completion is instant with the fs store.
   */
  httpRoutes?: (
    onObjectStored: (event: TStoredEvent) => Promise<void>,
    /** Refuses uploads of used forms and into closed sessions (handlers/upload-admission.ts). */
    admitUpload: TAdmitUpload,
  ) => (req: IncomingMessage, res: ServerResponse) => boolean;
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
  /** Runs the §2 clean-up (TRANSFER_TTL) once now. */
  cleanUpTransfersNow(): Promise<{ expired: number; purgedSegments: number; stagingFilesRemoved?: number }>;
};

const KINDS = Object.keys(REQUEST_SUFFIXES) as TRequestKind[];

export function createIngestWorker({ config, logger, store, namedStores, httpRoutes }: TIngestWorkerDeps): TIngestWorker {
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

  const batcher = new Batcher<TUploadRow, TUploadOutcome>(async (rows) => {
    const stopTimer = metrics.batchDuration.startTimer();
    try {
      return await recordUploadRequests(pool, rows, {
        expiresInSeconds: config.uploadExpiresInSeconds,
        // The fs store reports each upload itself; S3 (without event notifications) is asked.
        firstCheckAfterSeconds: store.backend === "fs" ? null : 30,
      });
    } finally {
      stopTimer();
    }
  }, {
    maxBatch: 256,
    maxConcurrent: Math.max(1, Math.min(config.dbBatchConcurrency ?? 1, config.dbPoolSize - 1)),
    onBatch: (size) => metrics.batchSize.observe(size),
    beforeSettle: coalesceWrites,
  });

  const handlers: Partial<Record<TRequestKind, THandler>> = {
    uploadRequest: createUploadRequestHandler({
      store,
      batcher,
      maxUploadMb: config.maxUploadMb,
      expiresInSeconds: config.uploadExpiresInSeconds,
    }) as unknown as THandler,
    uploadComplete: createUploadCompleteHandler({ pool, store, metrics, log }) as unknown as THandler,
    sessionOpen: createSessionOpenHandler({ pool }) as unknown as THandler,
    sessionClose: createSessionCloseHandler({ pool }) as unknown as THandler,
  };
  const storeFeature = installStoreFeature(handlers, {
    pool,
    stores: namedStores ?? new Map(),
    maxUploadMb: config.maxUploadMb,
    uploadExpiresInSeconds: config.uploadExpiresInSeconds,
    downloadExpiresInSeconds: config.downloadExpiresInSeconds ?? 3600,
    log: logger,
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
  const chunks = createChunkFeature({ settings: config.chunks, topics, pool, registry: metrics.registry, log });

  const seen = new Map<string, Date>();
  const dispatch = createRouter({
    routes: [transfers.route, chunks.route],
    topics,
    handlers,
    metrics,
    logger: log,
    onDeviceSeen: (deviceId) => seen.set(deviceId, new Date()),
    publish: (topic, payload, properties) => {
      mqtt.publish(topic, payload, { qos: 1, ...(config.mqtt.protocolVersion === 5 && properties ? { properties } : {}) }, (error) => {
        if (error) log.warn({ err: error, topic }, "response not delivered to the broker");
      });
    },
  });

  let draining = false;
  const acks = installDeferredAcks(mqtt, { handle: (packet) => transfers.budget.track(packet, dispatch(packet)), isDraining: () => draining });
  transfers.budget.install(mqtt);
  // Several workers on one shared subscription: a peer that stops or dies leaves requests in its
  // broker session, and one of the others drains them (mqtt/peer-takeover.ts).
  let takeover: TPeerTakeover | null = null;
  const startTakeover = () => {
    const group = config.mqtt.sharedGroup;
    if (!group || config.mqtt.protocolVersion !== 5) return;
    takeover = startPeerTakeover({
      main: mqtt,
      connection: config.mqtt,
      group,
      presenceBase: `${topics.prefix}/workers`,
      filters: () => [...KINDS.map((kind) => topics.requestFilter(kind, group)), transfers.filter(group), chunks.filter(group)],
      handle: (packet) => transfers.budget.track(packet, dispatch(packet)),
      log,
    });
  };

  let subscribed = false;
  let subscribeError: string | undefined;
  mqtt.on("connect", (connack) => {
    metrics.brokerConnected.set(1);
    log.info({ sessionPresent: connack.sessionPresent }, "connected to the MQTT broker");
    if (subscribed && connack.sessionPresent) return;
    const filters = Object.fromEntries(KINDS.map((kind) => [topics.requestFilter(kind, config.mqtt.sharedGroup), { qos: 1 as const }]));
    filters[transfers.filter(config.mqtt.sharedGroup)] = { qos: 1 as const };
    filters[chunks.filter(config.mqtt.sharedGroup)] = { qos: 1 as const };
    mqtt.subscribe(filters, (error, granted) => {
      const refused = granted?.filter((grant) => grant.qos > 2) ?? [];
      if (error || refused.length > 0) {
        subscribeError = error?.message ?? `broker refused ${refused.map((grant) => grant.topic).join(", ")}`;
        log.error({ err: error, refused }, "could not subscribe to the request topics");
        return;
      }
      subscribed = true;
      subscribeError = undefined;
      log.info({ filters: Object.keys(filters) }, "subscribed to device requests");
      for (const waiter of subscribeWaiters.splice(0)) waiter();
    });
  });
  mqtt.on("close", () => metrics.brokerConnected.set(0));
  mqtt.on("offline", () => log.warn("MQTT broker unreachable; reconnecting"));
  mqtt.on("error", (error) => log.error({ err: error }, "MQTT error"));
  const subscribeWaiters: (() => void)[] = [];

  const onObjectStored = async (event: TStoredEvent) => {
    if (await storeFeature.onObjectStored(event)) return;
    const parsed = parseSessionObjectKey(event.key);
    if (!parsed) return;
    const marked = await recordStoredObject(
      pool,
      { ...parsed, objectKey: event.key, size: event.size, etag: event.etag, contentType: event.contentType },
      { via: "storage", log },
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
    const broker = { ok: mqtt.connected && subscribed, ...(mqtt.connected ? (subscribeError ? { detail: subscribeError } : {}) : { detail: "not connected" }) };
    const database = { ok: lastDbCheck.ok, ...(lastDbCheck.ok ? {} : { detail: lastDbCheck.detail }) };
    return { ok: broker.ok && database.ok, checks: { broker, database } };
  };

  let server: Server | null = null;
  let jobs: TPeriodic[] = [];

  return {
    mqtt,
    metrics,
    httpAddress: () => (server?.address() as AddressInfo | null) ?? null,
    sweepNow: async () => {
      await sweepPendingFiles({ pool, store, metrics, log });
    },
    cleanUpTransfersNow: () => transfers.cleanUp(),
    async start() {
      if (config.http) {
        server = createHttpServer({ registry: metrics.registry, health, extra: httpRoutes?.(onObjectStored, admitUpload), limits: config.http.limits });
        await new Promise<void>((resolve, reject) => {
          server!.once("error", reject);
          server!.listen(config.http!.port, config.http!.host, () => {
            server!.off("error", reject);
            resolve();
          });
        });
        log.info({ address: server.address() }, "HTTP server listening (/healthz, /metrics)");
      }
      jobs = [
        startPeriodic("sweeper", config.sweepIntervalMs, () => sweepPendingFiles({ pool, store, metrics, log }), log),
        startPeriodic("last-seen", 5000, async () => {
          const batch = new Map(seen);
          seen.clear();
          await touchDevices(pool, batch);
        }, log),
        startPeriodic("pending-gauge", 15_000, async () => metrics.pendingFiles.set(await countPendingFiles(pool)), log),
        ...transfers.startJobs(),
      ];
      chunks.start();
      const ready = new Promise<void>((resolve) => subscribeWaiters.push(resolve));
      startTakeover();
      mqtt.connect();
      await ready;
    },
    async stop() {
      draining = true;
      log.info({ inFlight: acks.inFlight }, "stopping: no new requests, finishing those in flight");
      await Promise.race([acks.idle(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await Promise.all(jobs.map((job) => job.stop()));
      await chunks.stop();
      await touchDevices(pool, seen).catch(() => {});
      await takeover?.stop();
      await mqtt.endAsync(false).catch(() => {});
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await pool.end().catch(() => {});
      log.info("stopped");
    },
  };
}
