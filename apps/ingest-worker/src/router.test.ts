/**
 * The router with fake packets: no broker, no database. Handlers are the operation table's, with
 * stub domain logic; `publish` records what would go to the broker.
 */
import { Writable } from "node:stream";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { createTopics } from "@fleetdrop/shared/topics";
import type { IPublishPacket } from "mqtt";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics";
import { createRateLimiter, DEFAULT_RATE_LIMITS } from "./rate-limit";
import { createRouter, type THandler, type THandlers, type TRawRoute } from "./router";

const topics = createTopics("fleetdrop");
const D = "ROBOT-1";
const device = topics.device(D);

type TPublished = { topic: string; body: Record<string, unknown>; properties: { correlationData?: Buffer } | undefined };

function packet(topic: string, payload: string | Buffer, properties?: IPublishPacket["properties"]): IPublishPacket {
  return {
    cmd: "publish",
    topic,
    payload: typeof payload === "string" ? Buffer.from(payload) : payload,
    qos: 1,
    dup: false,
    retain: false,
    messageId: 1,
    ...(properties ? { properties } : {}),
  };
}

const session = (id: number, name: string) => ({
  session_id: id,
  name,
  state: "open" as const,
  started_at: "2025-01-12T10:30:00.000Z",
  ended_at: null,
});

function setup(
  options: {
    handlers?: THandlers;
    routes?: TRawRoute<unknown>[];
    rateLimit?: { burst: number; perSecond: number };
    /** What becomes of each answer: acknowledged (default), still in flight, or failed to publish. */
    broker?: "acks" | "silent" | "fails";
  } = {},
) {
  const published: TPublished[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        callback();
      },
    }),
  );
  const calls: { operation: string; message: unknown }[] = [];
  const sessionOpen: THandler<"sessionOpen"> = {
    async handle(message) {
      calls.push({ operation: "sessionOpen", message });
      return session(7, message.name ?? "default");
    },
  };
  const sessionClose: THandler<"sessionClose"> = {
    async handle(message) {
      calls.push({ operation: "sessionClose", message });
      if (message.session_id === 404) throw new ProtocolError("session_not_found");
      if (message.session_id === 500) throw new Error("connection to postgres://admin:hunter2@db failed");
      return { ...session(message.session_id, "s"), state: "closed", ended_at: "2025-01-12T11:00:00.000Z" };
    },
  };
  const uploadRequest: THandler<"uploadRequest"> = {
    async handle(message) {
      calls.push({ operation: "uploadRequest", message });
      return {
        url: "http://127.0.0.1/fs/b",
        fields: {},
        object_key: `sessions/${D}/${message.session_id}/${message.filename}`,
        expires_in: 60,
        file_id: "f1",
      };
    },
  };
  const storeUpload: THandler<"storeUpload"> = {
    async handle(message) {
      calls.push({ operation: "storeUpload", message });
      return {
        url: "http://127.0.0.1/fs/b",
        fields: {},
        object_key: `${message.store}/${D}/${message.filename}`,
        expires_in: 60,
        store: message.store,
        path: message.filename,
      };
    },
  };
  const handlers: THandlers = options.handlers ?? { sessionOpen, sessionClose, uploadRequest, storeUpload };
  let clock = 0;
  const dispatch = createRouter({
    topics,
    handlers,
    routes: options.routes,
    publish: (topic, payload, properties, settled) => {
      published.push({ topic, body: JSON.parse(payload) as Record<string, unknown>, properties });
      const broker = options.broker ?? "acks";
      if (broker === "acks") settled?.();
      else if (broker === "fails") settled?.(new Error("client disconnecting"));
    },
    metrics: createMetrics(),
    logger,
    rateLimiter: options.rateLimit ? createRateLimiter({ ...DEFAULT_RATE_LIMITS, session: options.rateLimit }, () => clock) : null,
  });
  return { dispatch, published, calls, logs, advance: (ms: number) => (clock += ms) };
}

describe("router: JSON operations", () => {
  it("hands a request to its operation's handler and answers on the operation's response topic", async () => {
    const { dispatch, published, calls } = setup();
    await dispatch(packet(device.sessionOpen, JSON.stringify({ name: "  mission 12 ", metadata: { route: "north" } })));
    // The handler gets the validated message (the schema trims the name).
    expect(calls).toEqual([{ operation: "sessionOpen", message: { name: "mission 12", metadata: { route: "north" } } }]);
    expect(published).toHaveLength(1);
    expect(published[0]!.topic).toBe(`fleetdrop/fleet/${D}/session/response`);
    expect(published[0]!.properties).toBeUndefined();
    expect(published[0]!.body).toMatchObject({ success: true, status: 200, session_id: 7, name: "mission 12", state: "open" });
    expect(published[0]!.body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(published[0]!.body).not.toHaveProperty("request_id");
  });

  it("picks session or store upload on file_upload/request by the table's rule; both is 400 invalid_payload", async () => {
    const { dispatch, published, calls } = setup();
    await dispatch(packet(device.uploadRequest, JSON.stringify({ session_id: 3, filename: "a.jpg", request_id: "s" })));
    await dispatch(packet(device.uploadRequest, JSON.stringify({ store: "status", filename: "m/report.json", request_id: "t" })));
    await dispatch(packet(device.uploadRequest, JSON.stringify({ store: "status", session_id: 3, filename: "x", request_id: "u" })));
    expect(calls.map((call) => call.operation)).toEqual(["uploadRequest", "storeUpload"]);
    expect(published.map((answer) => answer.topic)).toEqual(Array(3).fill(`fleetdrop/fleet/${D}/file_upload/response`));
    expect(published[0]!.body).toMatchObject({ success: true, request_id: "s", file_id: "f1" });
    expect(published[1]!.body).toMatchObject({ success: true, request_id: "t", store: "status", path: "m/report.json" });
    expect(published[2]!.body).toMatchObject({ success: false, status: 400, code: "invalid_payload", request_id: "u" });
  });

  it("answers a payload that is not JSON with 400 invalid_json, and never calls the handler", async () => {
    const { dispatch, published, calls } = setup();
    await dispatch(packet(device.sessionOpen, "{not json"));
    await dispatch(packet(device.sessionOpen, "[1, 2]"));
    await dispatch(packet(device.sessionOpen, Buffer.from([0xff, 0xfe, 0x7b, 0x7d])));
    expect(calls).toEqual([]);
    expect(published.map((answer) => [answer.topic, answer.body.status, answer.body.code, answer.body.success])).toEqual(
      Array(3).fill([`fleetdrop/fleet/${D}/session/response`, 400, "invalid_json", false]),
    );
  });

  it("answers a schema failure with the failing field's code, echoing the request_id", async () => {
    const { dispatch, published, calls } = setup();
    await dispatch(packet(device.sessionClose, JSON.stringify({ session_id: "seven", request_id: "r-close" })));
    await dispatch(packet(device.sessionOpen, JSON.stringify({ name: "", request_id: "r-open" })));
    await dispatch(packet(device.uploadRequest, JSON.stringify({ session_id: 1, filename: "../up", request_id: "r-up" })));
    await dispatch(packet(device.uploadRequest, JSON.stringify({ store: "Not A Store", filename: "a", request_id: "r-store" })));
    await dispatch(packet(device.sessionOpen, JSON.stringify({ request_id: 12 })));
    expect(calls).toEqual([]);
    expect(published.map((answer) => [answer.body.status, answer.body.code, answer.body.request_id])).toEqual([
      [400, "invalid_session_id", "r-close"],
      [400, "invalid_name", "r-open"],
      [400, "invalid_filename", "r-up"],
      [400, "invalid_store", "r-store"],
      // A request_id that is not a string is refused and cannot be echoed.
      [400, "invalid_request_id", undefined],
    ]);
  });

  it("echoes the request_id on success and on a refusal by the handler", async () => {
    const { dispatch, published } = setup();
    await dispatch(packet(device.sessionClose, JSON.stringify({ session_id: 5, request_id: "ok-1" })));
    await dispatch(packet(device.sessionClose, JSON.stringify({ session_id: 404, request_id: "nf-1" })));
    expect(published.map((answer) => answer.body)).toEqual([
      expect.objectContaining({ success: true, status: 200, request_id: "ok-1", session_id: 5, state: "closed" }),
      expect.objectContaining({ success: false, status: 404, code: "session_not_found", request_id: "nf-1", error: "No such session" }),
    ]);
  });

  it("answers on an MQTT 5 Response Topic under the device with its Correlation Data; another device's topic is ignored", async () => {
    const { dispatch, published } = setup();
    const correlationData = Buffer.from("c-42");
    await dispatch(packet(device.sessionOpen, "{}", { responseTopic: `fleetdrop/fleet/${D}/replies/7`, correlationData }));
    await dispatch(packet(device.sessionOpen, "{}", { responseTopic: "fleetdrop/fleet/ROBOT-2/replies/7", correlationData }));
    await dispatch(packet(device.sessionOpen, "{}", { responseTopic: `fleetdrop/fleet/${D}/replies/#` }));
    await dispatch(packet(device.sessionOpen, "nope", { responseTopic: `fleetdrop/fleet/${D}/replies/8`, correlationData }));
    expect(published.map((answer) => [answer.topic, answer.properties?.correlationData?.toString()])).toEqual([
      [`fleetdrop/fleet/${D}/replies/7`, "c-42"],
      [`fleetdrop/fleet/${D}/session/response`, "c-42"],
      [`fleetdrop/fleet/${D}/session/response`, undefined],
      // Errors go there too.
      [`fleetdrop/fleet/${D}/replies/8`, "c-42"],
    ]);
    expect(published[3]!.body.code).toBe("invalid_json");
  });

  it("answers a request over the device's limit 429 rate_limited with retry_after, without handling it", async () => {
    const { dispatch, published, calls, advance } = setup({ rateLimit: { burst: 1, perSecond: 0.5 } });
    await dispatch(packet(device.sessionOpen, JSON.stringify({ request_id: "a" })));
    await dispatch(packet(device.sessionOpen, JSON.stringify({ request_id: "b" })));
    // Refused before parsing: a bad payload over the limit is still 429, with its request_id when readable.
    await dispatch(packet(device.sessionClose, "{broken"));
    advance(2000);
    await dispatch(packet(device.sessionOpen, JSON.stringify({ request_id: "c" })));
    expect(calls.map((call) => (call.message as { request_id?: string }).request_id)).toEqual(["a", "c"]);
    expect(published.map((answer) => [answer.body.status, answer.body.code, answer.body.retry_after, answer.body.request_id])).toEqual([
      [200, undefined, undefined, "a"],
      [429, "rate_limited", 2, "b"],
      [429, "rate_limited", 2, undefined],
      [200, undefined, undefined, "c"],
    ]);
  });

  it("answers an unexpected handler error 500 internal_error without its details, and logs them", async () => {
    const { dispatch, published, logs } = setup();
    await dispatch(packet(device.sessionClose, JSON.stringify({ session_id: 500, request_id: "boom" })));
    expect(published).toHaveLength(1);
    expect(published[0]!.body).toMatchObject({
      success: false,
      status: 500,
      code: "internal_error",
      error: "Internal error",
      request_id: "boom",
    });
    expect(JSON.stringify(published[0]!.body)).not.toMatch(/hunter2|postgres/);
    const logged = logs.find((line) => line.code === "internal_error");
    expect(JSON.stringify(logged)).toMatch(/hunter2/);
  });

  it("ignores topics that are no operation's, and operations without a handler (until one is installed)", async () => {
    const handlers: THandlers = {};
    const { dispatch, published, calls } = setup({ handlers });
    await dispatch(packet(device.sessionOpen, "{}"));
    await dispatch(packet(`fleetdrop/fleet/${D}/nothing/here`, "{}"));
    await dispatch(packet(device.sessionResponse, "{}"));
    expect(published).toEqual([]);
    expect(calls).toEqual([]);
    handlers.sessionOpen = { handle: async () => session(1, "late") };
    await dispatch(packet(device.sessionOpen, "{}"));
    expect(published.map((answer) => answer.body.name)).toEqual(["late"]);
  });
});

describe("router: raw routes", () => {
  type TParams = { name: string; fail: boolean };
  const handled: string[] = [];
  const route = (operation: "transferSegment" | "transferStatus"): TRawRoute<unknown> => {
    const typed: TRawRoute<TParams> = {
      match(topic) {
        const match = new RegExp(`^fleetdrop/fleet/([^/]+)/raw-${operation}/(\\w+)$`).exec(topic);
        return match ? { deviceId: match[1]!, operation, params: { name: match[2]!, fail: match[2] === "bad" } } : null;
      },
      responseTopic: (deviceId) => `fleetdrop/fleet/${deviceId}/raw/response`,
      describe: (params) => ({ thing: params.name }),
      async handle({ params, payload }) {
        handled.push(`${operation}:${params.name}:${payload.toString()}`);
        if (params.fail) throw new ProtocolError("segment_too_large");
        return { bytes: payload.length };
      },
    };
    return typed;
  };

  it("does not answer the success of an operation acknowledged by PUBACK, unless an MQTT 5 Response Topic asks", async () => {
    const { dispatch, published } = setup({ routes: [route("transferSegment"), route("transferStatus")] });
    await dispatch(packet(`fleetdrop/fleet/${D}/raw-transferSegment/one`, "abc"));
    expect(handled).toContain("transferSegment:one:abc");
    expect(published).toEqual([]);

    await dispatch(
      packet(`fleetdrop/fleet/${D}/raw-transferSegment/two`, "abcd", {
        responseTopic: `fleetdrop/fleet/${D}/mine`,
        correlationData: Buffer.from("k"),
      }),
    );
    await dispatch(packet(`fleetdrop/fleet/${D}/raw-transferSegment/bad`, "x"));
    await dispatch(packet(`fleetdrop/fleet/${D}/raw-transferStatus/three`, ""));
    expect(
      published.map((answer) => [
        answer.topic,
        answer.properties?.correlationData?.toString(),
        answer.body.thing,
        answer.body.status,
        answer.body.code ?? answer.body.bytes,
      ]),
    ).toEqual([
      [`fleetdrop/fleet/${D}/mine`, "k", "two", 200, 4],
      // Errors are always answered, with the route's fields.
      [`fleetdrop/fleet/${D}/raw/response`, undefined, "bad", 413, "segment_too_large"],
      // An operation acknowledged by an answer is answered on success too.
      [`fleetdrop/fleet/${D}/raw/response`, undefined, "three", 200, 0],
    ]);
  });
});

describe("router: handler types come from the operation table", () => {
  it("refuses, at compile time, a handler whose message or answer is not its operation's", () => {
    const wrongAnswer: THandler<"sessionClose"> = {
      // @ts-expect-error a session answer has no `url`, and needs `session_id`
      async handle() {
        return { url: "http://x" };
      },
    };
    const wrongMessage: THandler<"downloadRequest"> = {
      async handle(message) {
        // @ts-expect-error a download request has no session_id
        void message.session_id; // oxlint-disable-line typescript/no-meaningless-void-operator -- here for the type error only
        return { url: "http://x", expires_in: 1, size: 0, etag: "e", store: message.store, path: message.path, object_key: "k" };
      },
    };
    const misplaced: THandlers = {
      // @ts-expect-error the handler map is keyed by operation: a session handler cannot serve downloads
      downloadRequest: { handle: async (message: { session_id: number }) => ({ session_id: message.session_id }) },
    };
    expect([wrongAnswer, wrongMessage, misplaced].length).toBe(3);
  });
});

describe("router: redelivered requests", () => {
  it("handles a redelivery (DUP) again but does not answer it twice once the broker took the first answer", async () => {
    const { dispatch, published, calls } = setup();
    const ask = (dup: boolean, requestId = "r1") => ({
      ...packet(device.request("sessionOpen"), JSON.stringify({ name: "run", request_id: requestId })),
      dup,
    });
    await dispatch(ask(false));
    await dispatch(ask(true));
    expect(calls).toHaveLength(2);
    expect(published).toHaveLength(1);
    // Asked again on purpose (not a redelivery), or another request: answered.
    await dispatch(ask(false));
    await dispatch(ask(true, "r2"));
    expect(published.map((answer) => answer.body.request_id)).toEqual(["r1", "r1", "r2"]);
  });

  it("does not answer a redelivery while the first answer is still in flight: the MQTT client sends that one again", async () => {
    const inFlight = setup({ broker: "silent" });
    const ask = { ...packet(device.request("sessionOpen"), JSON.stringify({ name: "run", request_id: "r1" })), dup: true };
    await inFlight.dispatch(ask);
    await inFlight.dispatch(ask);
    expect(inFlight.calls).toHaveLength(2);
    expect(inFlight.published).toHaveLength(1);
  });

  it("answers a redelivery again when the first answer failed to publish, or when the request cannot be told apart", async () => {
    const failed = setup({ broker: "fails" });
    const ask = { ...packet(device.request("sessionOpen"), JSON.stringify({ name: "run", request_id: "r1" })), dup: true };
    await failed.dispatch(ask);
    await failed.dispatch(ask);
    expect(failed.published).toHaveLength(2);

    const anonymous = setup();
    const bare = { ...packet(device.request("sessionOpen"), JSON.stringify({ name: "run" })), dup: true };
    await anonymous.dispatch(bare);
    await anonymous.dispatch(bare);
    expect(anonymous.published).toHaveLength(2);
  });
});
