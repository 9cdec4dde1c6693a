/**
 * Maps request topics to handlers and owns everything around them: topic and payload parsing,
 * schema validation, error mapping to the protocol's status/code, the response topic (MQTT 5
 * Response Topic + Correlation Data when the device gave them), metrics and logs. A handler is
 * only its domain logic: it gets a validated message and returns the success body or throws.
 *
 * Two kinds of route:
 * - JSON request kinds (`REQUEST_SUFFIXES`): a fixed topic, a JSON payload checked by the
 *   handler's zod schema, always answered on the kind's response topic.
 * - Raw routes (`TRawRoute`): topics that carry parameters (`file_transfer/{file_id}/{offset}`,
 *   `chunks/{stream}`) and payloads that may be raw bytes. The route reads its topic and payload;
 *   the router still owns error mapping, the response topic and correlation, metrics and logs.
 *   A raw route says which successes are worth an answer (`answerSuccess`): a file segment is
 *   acknowledged by its PUBACK alone unless the device asked for an answer with an MQTT 5
 *   Response Topic; errors are always answered.
 *
 * Rate limits (rate-limit.ts) are taken here, for every kind, before anything is parsed or
 * handled: a request over its device's limit is answered `429 rate_limited` with `retry_after`
 * (seconds) and returns normally, so it is acknowledged like any other and never redelivered.
 */
import { isDatabaseUnavailable } from "@fleetdrop/db/pool";
import { isProtocolError, ProtocolError } from "@fleetdrop/shared/errors";
import {
  decodeJsonObject,
  errorResponse,
  successEnvelope,
  usableRequestId,
  validateMessage,
} from "@fleetdrop/shared/protocol/common";
import type { TRequestKind, TTopics } from "@fleetdrop/shared/topics";
import { StorageUnavailableError } from "@fleetdrop/storage/store";
import type { IPublishPacket } from "mqtt";
import type { z } from "zod";
import type { Logger } from "./logger";
import type { TWorkerMetrics } from "./metrics";
import type { TRateLimiter } from "./rate-limit";

export type THandlerContext = {
  deviceId: string;
  requestId: string | undefined;
  log: Logger;
};

export type THandler<S extends z.ZodType = z.ZodType> = {
  schema: S;
  fieldCodes: Partial<Record<string, ProtocolError["code"]>>;
  handle(message: z.infer<S>, context: THandlerContext): Promise<Record<string, unknown>>;
};

export type TPublish = (
  topic: string,
  payload: string,
  properties: { correlationData?: Buffer } | undefined,
) => void;

/** A message of a raw route: the topic's parameters and the payload as bytes. */
export type TRawMessage<P> = { deviceId: string; params: P; payload: Buffer; packet: IPublishPacket };

export type TRawRoute<P = unknown> = {
  /** Reads the topic: null when it is not this route's. `kind` labels metrics and logs. */
  match(topic: string): { deviceId: string; kind: string; params: P } | null;
  /** Where answers go when the device gave no usable Response Topic. */
  responseTopic(deviceId: string): string;
  /** Fields every answer carries, success or error (e.g. file_id, command, offset). */
  describe(params: P): Record<string, unknown>;
  /** The request_id to echo, when the payload carries one (read leniently, before validation). */
  requestIdOf?(payload: Buffer, params: P): string | undefined;
  /** Whether a success is answered even when the device did not ask for an answer. */
  answerSuccess(params: P): boolean;
  /** Domain logic: returns the success body, or throws (a ProtocolError becomes the answer). */
  handle(message: TRawMessage<P>, context: THandlerContext): Promise<Record<string, unknown>>;
};

export type TRouterDeps = {
  topics: TTopics;
  handlers: Partial<Record<TRequestKind, THandler>>;
  /** Raw routes, tried in order for topics that are not JSON request kinds. */
  routes?: TRawRoute<any>[];
  publish: TPublish;
  metrics: TWorkerMetrics;
  logger: Logger;
  /** Called with every device heard from (for "last seen"). */
  onDeviceSeen?(deviceId: string): void;
  /** Per-device limits; none: no limits. */
  rateLimiter?: TRateLimiter | null;
};

export function createRouter(deps: TRouterDeps) {
  const { topics, handlers, publish, metrics, logger } = deps;

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
    const handler = handlers[route.kind];
    if (!handler) return;
    const { deviceId, kind } = route;
    deps.onDeviceSeen?.(deviceId);

    let decoded: Record<string, unknown> | undefined;
    let requestId: string | undefined;
    let body: Record<string, unknown>;
    try {
      const limited = rateLimited(deviceId, kind);
      try {
        decoded = decodeJsonObject(toBytes(packet.payload));
        requestId = usableRequestId(decoded);
      } catch (error) {
        // A refused request still echoes its request_id when it has one.
        throw limited ?? error;
      }
      if (limited) throw limited;
      const message = validateMessage(handler.schema, decoded, handler.fieldCodes);
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
      body = Object.assign(successEnvelope(requestId), await handler.handle(message, context));
      metrics.requests.inc({ kind, outcome: "ok", code: "" });
      if (logger.isLevelEnabled("debug")) requestLog().debug("answered");
    } catch (caught) {
      const error = toProtocolError(caught);
      body = errorResponse(error, requestId);
      metrics.requests.inc({ kind, outcome: "error", code: error.code });
      logRefusal(error, caught, { device: deviceId, kind, request_id: requestId, code: error.code, status: error.status });
    }

    const properties = packet.properties;
    const responseTopic =
      properties?.responseTopic && topics.isUnderDevice(properties.responseTopic, deviceId)
        ? properties.responseTopic
        : topics.device(deviceId).response(kind);
    publish(
      responseTopic,
      JSON.stringify(body),
      properties?.correlationData ? { correlationData: properties.correlationData } : undefined,
    );
    metrics.latency.observe({ kind }, (performance.now() - started) / 1000);
  };

  async function dispatchRaw<P>(
    raw: TRawRoute<P>,
    { deviceId, kind, params }: { deviceId: string; kind: string; params: P },
    packet: IPublishPacket,
    started: number,
  ): Promise<void> {
    deps.onDeviceSeen?.(deviceId);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const requestId = raw.requestIdOf?.(payload, params);
    const properties = packet.properties;
    const askedTopic =
      properties?.responseTopic && topics.isUnderDevice(properties.responseTopic, deviceId) ? properties.responseTopic : undefined;
    let body: Record<string, unknown> | null;
    try {
      const limited = rateLimited(deviceId, kind);
      if (limited) throw limited;
      const log = logger.child({ device: deviceId, kind, ...(requestId ? { request_id: requestId } : {}) });
      const result = await raw.handle({ deviceId, params, payload, packet }, { deviceId, requestId, log });
      metrics.requests.inc({ kind, outcome: "ok", code: "" });
      body = askedTopic || raw.answerSuccess(params) ? { ...raw.describe(params), ...successEnvelope(requestId), ...result } : null;
    } catch (caught) {
      const error = toProtocolError(caught);
      body = { ...raw.describe(params), ...errorResponse(error, requestId) };
      metrics.requests.inc({ kind, outcome: "error", code: error.code });
      logRefusal(error, caught, { device: deviceId, kind, request_id: requestId, code: error.code, status: error.status, ...raw.describe(params) });
    }
    if (body) {
      publish(
        askedTopic ?? raw.responseTopic(deviceId),
        JSON.stringify(body),
        properties?.correlationData ? { correlationData: properties.correlationData } : undefined,
      );
    }
    metrics.latency.observe({ kind }, (performance.now() - started) / 1000);
  }

  function rateLimited(deviceId: string, kind: string): ProtocolError | null {
    const retryAfter = deps.rateLimiter?.take(deviceId, kind) ?? 0;
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
