/**
 * Maps request topics to handlers and owns everything around them: topic and payload parsing,
 * schema validation, error mapping to the protocol's status/code, the response topic (MQTT 5
 * Response Topic + Correlation Data when the device gave them), metrics and logs. A handler is
 * only its domain logic: it gets a validated message and returns the success body or throws.
 *
 * What each operation is comes from the operation table (`@fleetdrop/shared/operations`): its
 * topic, schema and field codes, how it is acknowledged and its metrics label. Two kinds of route:
 * - JSON operations on a fixed topic (`THandlers`, keyed by operation name): a JSON payload
 *   checked by the operation's schema, always answered on the operation's response topic. A
 *   topic may carry several operations (`file_upload/request`: session and store uploads); the
 *   table says which one a request is.
 * - Raw routes (`TRawRoute`): topics that carry parameters (`file_transfer/{file_id}/{offset}`,
 *   `chunks/{stream}`) and payloads that may be raw bytes. The route reads its topic and payload
 *   and names the operation; the router still owns error mapping, the response topic and
 *   correlation, metrics and logs. An operation acknowledged by `puback` (a file segment, a
 *   chunk) is answered on success only when the device asked with an MQTT 5 Response Topic;
 *   errors are always answered.
 *
 * Rate limits (rate-limit.ts, by the operation's class) are taken here, before anything is parsed or
 * handled: a request over its device's limit is answered `429 rate_limited` with `retry_after`
 * (seconds) and returns normally, so it is acknowledged like any other and never redelivered.
 */
import { isDatabaseUnavailable } from "@fleetdrop/db/pool";
import { isProtocolError, ProtocolError } from "@fleetdrop/shared/errors";
import { decodeJsonObject, errorResponse, successEnvelope, usableRequestId } from "@fleetdrop/shared/protocol/common";
import {
  JSON_OPERATION_NAMES,
  jsonOperationOf,
  OPERATIONS,
  parseOperationRequest,
  type TJsonOperationName,
  type TOperationAnswerBody,
  type TOperationName,
  type TOperationRequest,
  type TRawOperationName,
} from "@fleetdrop/shared/operations";
import { REQUEST_SUFFIXES, type TTopics } from "@fleetdrop/shared/topics";
import { StorageUnavailableError } from "@fleetdrop/storage/store";
import type { IPublishPacket } from "mqtt";
import type { Logger } from "./logger";
import type { TWorkerMetrics } from "./metrics";
import { createAnsweredRequests } from "./mqtt/answered-requests";
import type { TRateLimiter } from "./rate-limit";

export type THandlerContext = {
  deviceId: string;
  requestId: string | undefined;
  log: Logger;
};

/** The domain logic of a JSON operation: its message and its answer are the table's. */
export type THandler<K extends TJsonOperationName> = {
  handle(message: TOperationRequest<K>, context: THandlerContext): Promise<TOperationAnswerBody<K>>;
};

/** The handlers of the JSON operations, by operation name. */
export type THandlers = { [K in TJsonOperationName]?: THandler<K> };

export type TPublish = (
  topic: string,
  payload: string,
  properties: { correlationData?: Buffer } | undefined,
  /** Called once the broker acknowledged the answer (no error) or the publish failed (an error). */
  settled?: (error?: Error) => void,
) => void;

/** A message of a raw route: the topic's parameters and the payload as bytes. */
export type TRawMessage<P> = { deviceId: string; params: P; payload: Buffer; packet: IPublishPacket };

export type TRawRoute<P = unknown> = {
  /** Reads the topic: null when it is not this route's; else the operation it carries. */
  match(topic: string): { deviceId: string; operation: TRawOperationName; params: P } | null;
  /** Where answers go when the device gave no usable Response Topic. */
  responseTopic(deviceId: string): string;
  /** Fields every answer carries, success or error (e.g. file_id, command, offset). */
  describe(params: P): Record<string, unknown>;
  /** The request_id to echo, when the payload carries one (read leniently, before validation). */
  requestIdOf?(payload: Buffer, params: P): string | undefined;
  /** Domain logic: returns the success body, or throws (a ProtocolError becomes the answer). */
  handle(message: TRawMessage<P>, context: THandlerContext): Promise<Record<string, unknown>>;
};

export type TRouterDeps = {
  topics: TTopics;
  handlers: THandlers;
  /** Raw routes, tried in order for topics that are not fixed JSON request topics. */
  routes?: TRawRoute<unknown>[];
  publish: TPublish;
  metrics: TWorkerMetrics;
  logger: Logger;
  /** Called with every device heard from (for "last seen"). */
  onDeviceSeen?(deviceId: string): void;
  /** Called with every refused request's device and code (the overview's refusal counts). */
  onRefused?(deviceId: string, code: string): void;
  /** Per-device limits; none: no limits. */
  rateLimiter?: TRateLimiter | null;
};

export function createRouter(deps: TRouterDeps) {
  const { topics, handlers, publish, metrics, logger } = deps;
  const answered = createAnsweredRequests();
  /** The operations of each fixed topic (read at dispatch: handlers may be installed after this). */
  const operationsOfTopic = new Map<string, TJsonOperationName[]>();
  for (const operation of JSON_OPERATION_NAMES) {
    const topic = OPERATIONS[operation].topic;
    operationsOfTopic.set(topic, [...(operationsOfTopic.get(topic) ?? []), operation]);
  }

  /** Validates with the operation's schema and field codes, then runs its handler. */
  function handleJson<K extends TJsonOperationName>(
    operation: K,
    decoded: Record<string, unknown>,
    context: THandlerContext,
  ): Promise<TOperationAnswerBody<K>> {
    const handler: THandler<K> | undefined = handlers[operation];
    if (!handler) throw new ProtocolError("internal_error");
    return handler.handle(parseOperationRequest(operation, decoded), context);
  }

  return async function dispatch(packet: IPublishPacket): Promise<void> {
    const started = performance.now();
    const route = topics.parseRequest(packet.topic);
    if (!route) {
      for (const raw of deps.routes ?? []) {
        const matched = raw.match(packet.topic);
        if (matched) return dispatchRaw(raw, matched, packet, started);
      }
      logger.debug({ topic: packet.topic }, "ignoring a message on a topic that is not a device request");
      return;
    }
    const { deviceId, kind } = route;
    const suffix = REQUEST_SUFFIXES[kind];
    // A topic none of whose operations has a handler is not this worker's to answer.
    if (!operationsOfTopic.get(suffix)?.some((operation) => handlers[operation])) return;
    deps.onDeviceSeen?.(deviceId);

    let decoded: Record<string, unknown> | undefined;
    let requestId: string | undefined;
    let body: Record<string, unknown>;
    try {
      // Taken before the payload is read: the topic's operation (its variants share its class).
      const limited = rateLimited(deviceId, kind);
      try {
        decoded = decodeJsonObject(toBytes(packet.payload));
        requestId = usableRequestId(decoded);
      } catch (error) {
        // A refused request still echoes its request_id when it has one.
        throw limited ?? error;
      }
      if (limited) throw limited;
      const operation = jsonOperationOf(suffix, decoded);
      if (!operation) throw new ProtocolError("internal_error");
      // The request's logger is made only if something logs (most answers log nothing).
      let log: Logger | undefined;
      const requestLog = () => (log ??= logger.child({ device: deviceId, kind, ...(requestId ? { request_id: requestId } : {}) }));
      const context: THandlerContext = {
        deviceId,
        requestId,
        get log() {
          return requestLog();
        },
      };
      body = Object.assign(successEnvelope(requestId), await handleJson(operation, decoded, context));
      metrics.requests.inc({ kind, outcome: "ok", code: "" });
      if (logger.isLevelEnabled("debug")) requestLog().debug("answered");
    } catch (caught) {
      const error = toProtocolError(caught);
      body = errorResponse(error, requestId);
      metrics.requests.inc({ kind, outcome: "error", code: error.code });
      deps.onRefused?.(deviceId, error.code);
      logRefusal(error, caught, { device: deviceId, kind, request_id: requestId, code: error.code, status: error.status });
    }

    const properties = packet.properties;
    const responseTopic =
      properties?.responseTopic && topics.isUnderDevice(properties.responseTopic, deviceId)
        ? properties.responseTopic
        : topics.device(deviceId).response(kind);
    const key = answered.keyOf(deviceId, packet, requestId);
    if (!answered.alreadyAnswered(key, packet)) {
      answer(key, responseTopic, body, properties);
    }
    metrics.latency.observe({ kind }, (performance.now() - started) / 1000);
  };

  async function dispatchRaw<P>(
    raw: TRawRoute<P>,
    { deviceId, operation, params }: { deviceId: string; operation: TRawOperationName; params: P },
    packet: IPublishPacket,
    started: number,
  ): Promise<void> {
    deps.onDeviceSeen?.(deviceId);
    const { kind, ack } = OPERATIONS[operation];
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const requestId = raw.requestIdOf?.(payload, params);
    const properties = packet.properties;
    const askedTopic =
      properties?.responseTopic && topics.isUnderDevice(properties.responseTopic, deviceId) ? properties.responseTopic : undefined;
    let body: Record<string, unknown> | null;
    try {
      const limited = rateLimited(deviceId, operation);
      if (limited) throw limited;
      const log = logger.child({ device: deviceId, kind, ...(requestId ? { request_id: requestId } : {}) });
      const result = await raw.handle({ deviceId, params, payload, packet }, { deviceId, requestId, log });
      metrics.requests.inc({ kind, outcome: "ok", code: "" });
      body = askedTopic || ack === "answer" ? { ...raw.describe(params), ...successEnvelope(requestId), ...result } : null;
    } catch (caught) {
      const error = toProtocolError(caught);
      body = { ...raw.describe(params), ...errorResponse(error, requestId) };
      metrics.requests.inc({ kind, outcome: "error", code: error.code });
      deps.onRefused?.(deviceId, error.code);
      logRefusal(error, caught, {
        device: deviceId,
        kind,
        request_id: requestId,
        code: error.code,
        status: error.status,
        ...raw.describe(params),
      });
    }
    const key = answered.keyOf(deviceId, packet, requestId);
    if (body && !answered.alreadyAnswered(key, packet)) {
      answer(key, askedTopic ?? raw.responseTopic(deviceId), body, properties);
    }
    metrics.latency.observe({ kind }, (performance.now() - started) / 1000);
  }

  function answer(key: string | null, topic: string, body: Record<string, unknown>, properties: IPublishPacket["properties"]): void {
    answered.sending(key);
    publish(
      topic,
      JSON.stringify(body),
      properties?.correlationData ? { correlationData: properties.correlationData } : undefined,
      (error) => (error ? answered.failed(key) : answered.delivered(key)),
    );
  }

  function rateLimited(deviceId: string, operation: TOperationName): ProtocolError | null {
    const retryAfter = deps.rateLimiter?.take(deviceId, operation) ?? 0;
    return retryAfter > 0 ? new ProtocolError("rate_limited", undefined, { retry_after: retryAfter }) : null;
  }

  function logRefusal(error: ProtocolError, caught: unknown, fields: Record<string, unknown>): void {
    if (error.status >= 500) logger.error({ ...fields, err: caught }, error.message);
    // A flood is counted in the metrics; one log line per refused request would be a second flood.
    else if (error.code === "rate_limited") logger.debug(fields, `refused: ${error.message}`);
    else logger.info(fields, `refused: ${error.message}`);
  }
}

function toBytes(payload: IPublishPacket["payload"]): Uint8Array {
  return typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
}

function toProtocolError(error: unknown): ProtocolError {
  if (isProtocolError(error)) return error;
  if (error instanceof StorageUnavailableError) return new ProtocolError("storage_unavailable");
  if (isDatabaseUnavailable(error)) return new ProtocolError("database_unavailable");
  return new ProtocolError("internal_error");
}
