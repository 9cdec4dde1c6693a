/**
 * Simulated devices for the fault suite: each one its own MQTT identity (the password the platform
 * issued it, on the shipped broker's TLS password listener), uploading files one after another
 * through the §1 flow, and keeping the books the suite reports from.
 *
 * What a device does (the behaviour every count assumes):
 *  1. Ask: publish `file_upload/request` (QoS 1) with a request_id of its own, then wait for the
 *     answer carrying that request_id. No answer within `timeoutMs`: publish the same request
 *     again, same request_id (every request is idempotent). A 429/500/503 answer: wait
 *     `retry_after` seconds when the answer gives it, else a back-off (0.5 s doubling to 5 s,
 *     ±50 %), and publish again. Any answer to any of its publishes settles an ask. Each publish
 *     carries its own MQTT 5 Correlation Data, so an answer is matched to the publish it answers.
 *  2. Upload: POST the form with the file (multipart, fields first, file last). 204: stored.
 *     A network error, a 5xx or 429: back off and start again at 1 with a new ask under the same
 *     request_id (as the device SDK's uploadFile does). A 403 (form refused): a new ask.
 *     An answer `file_exists` (409) to an ask after a POST that may have landed: the file is
 *     already stored, done.
 *  3. Report completion: `file_upload/complete` with the object key, asked like 1.
 * A device keeps retrying until the suite gives up (60 s after the load stops); what is still
 * unanswered then is lost.
 *
 * Books: an ask is one request the device needs answered (several publishes when it retries).
 * sent = asks; answered = asks that got an answer; answered twice = asks in which one publish
 * got more than one answer; lost = asks never answered.
 */
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { disableNagle } from "@fleetdrop/mqtt-internals";
import mqtt, { type MqttClient } from "mqtt";

export type TDeviceIdentity = { serial: string; password: string; sessionId: number };

export type TFleetOptions = {
  brokerUrl: string;
  caPem: string;
  devices: TDeviceIdentity[];
  timeoutMs: number;
  /** Pause between one file and the next, per device. */
  pauseMs: number;
  minBytes: number;
  maxBytes: number;
  /** Each device's upload rate (a device on a slow link): uploads are in progress most of the time. */
  uploadBytesPerSecond: number;
};

type TAnswer = { status: number; code?: string; body: Record<string, unknown> };

type TAsk = {
  deviceIndex: number;
  /** Answers received per publish (index = attempt). */
  answers: number[];
  /** The newest answer not yet acted on. */
  latest?: TAnswer;
  /** The answer that settled the ask: a success, or an error retrying cannot fix. */
  final?: TAnswer;
  wake?: () => void;
};

export type TUploadedFile = { objectKey: string; size: number; sha256: string; posted: boolean };

export type TFleetBooks = {
  sent: number;
  publishes: number;
  answered: number;
  answeredTwice: number;
  lost: number;
  /** Asks answered with an error that retrying cannot fix (other than file_exists after a POST). */
  refused: Record<string, number>;
  files: TUploadedFile[];
  /** POSTs that did not store the file (network error, 5xx, 429, 403), each retried. */
  failedPosts: number;
};

const backoff = (round: number) => Math.min(5000, 500 * 2 ** round) * (0.5 + Math.random());

export class Fleet {
  private readonly clients: MqttClient[] = [];
  private readonly asks = new Map<string, TAsk>();
  private readonly files: TUploadedFile[] = [];
  private readonly refused: Record<string, number> = {};
  private publishes = 0;
  private failedPosts = 0;
  private askCount = 0;
  private loading = false;
  private givenUp = false;
  private readonly pauses = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private busy = 0;

  constructor(private readonly options: TFleetOptions) {}

  async connect(): Promise<void> {
    const { options } = this;
    await Promise.all(
      options.devices.map(async (device, index) => {
        const client = await mqtt.connectAsync(options.brokerUrl, {
          clientId: `${device.serial}-${randomBytes(3).toString("hex")}`,
          username: device.serial,
          password: device.password,
          ca: options.caPem,
          protocolVersion: 5,
          clean: true,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
        });
        const noDelay = () => disableNagle(client);
        noDelay();
        client.on("connect", noDelay);
        client.on("error", () => {});
        client.on("message", (_topic, payload, packet) => this.onAnswer(index, payload, packet.properties?.correlationData));
        await client.subscribeAsync(`fleetdrop/fleet/${device.serial}/file_upload/response`, { qos: 1 });
        this.clients[index] = client;
      }),
    );
  }

  /** Starts every device's upload loop. */
  startLoad(): void {
    this.loading = true;
    this.loops = this.options.devices.map((_, index) => this.loop(index));
  }

  /** Devices finish the file in hand and start no other. */
  stopLoad(): void {
    this.loading = false;
  }

  /** True when no device has a file in hand. */
  idle(): boolean {
    return this.busy === 0;
  }

  /** Gives up on everything still open (what is unanswered now is lost) and disconnects. */
  async finish(): Promise<TFleetBooks> {
    this.loading = false;
    this.givenUp = true;
    for (const ask of this.asks.values()) ask.wake?.();
    for (const wake of Array.from(this.pauses)) wake();
    await Promise.all(this.loops);
    await Promise.all(this.clients.map((client) => client.endAsync(true).catch(() => {})));
    let answered = 0;
    let answeredTwice = 0;
    for (const ask of this.asks.values()) {
      if (ask.final) answered++;
      if (ask.answers.some((count) => count > 1)) answeredTwice++;
    }
    return {
      sent: this.askCount,
      publishes: this.publishes,
      answered,
      answeredTwice,
      lost: this.askCount - answered,
      refused: this.refused,
      files: this.files,
      failedPosts: this.failedPosts,
    };
  }

  private onAnswer(deviceIndex: number, payload: Buffer, correlation: Buffer | undefined): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    const [key, attemptText] = (correlation?.toString() ?? "").split("#");
    const ask = key ? this.asks.get(key) : undefined;
    if (!ask || ask.deviceIndex !== deviceIndex) return;
    const attempt = Number(attemptText);
    ask.answers[attempt] = (ask.answers[attempt] ?? 0) + 1;
    const status = typeof body.status === "number" ? body.status : 0;
    if (!ask.final) {
      ask.latest = { status, ...(typeof body.code === "string" ? { code: body.code } : {}), body };
      ask.wake?.();
    }
  }

  /**
   * One ask: publishes until an answer that settles it (success, or an error retrying cannot fix),
   * or until finish(). Null when given up.
   */
  private async ask(deviceIndex: number, suffix: string, message: Record<string, unknown>): Promise<TAnswer | null> {
    const device = this.options.devices[deviceIndex]!;
    const client = this.clients[deviceIndex]!;
    const key = `${device.serial}:${++this.askCount}`;
    const ask: TAsk = { deviceIndex, answers: [] };
    this.asks.set(key, ask);
    const topic = `fleetdrop/fleet/${device.serial}/${suffix}`;
    const payload = JSON.stringify(message);
    for (let attempt = 0, round = 0; !this.givenUp;) {
      if (!ask.latest) {
        ask.answers[attempt] = 0;
        this.publishes++;
        client.publish(topic, payload, { qos: 1, properties: { correlationData: Buffer.from(`${key}#${attempt}`) } }, () => {});
        attempt++;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.timeoutMs);
          ask.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        ask.wake = undefined;
      }
      const answer = ask.latest;
      if (!answer) continue;
      if (answer.status === 429 || answer.status === 500 || answer.status === 503) {
        ask.latest = undefined;
        await this.pause(typeof answer.body.retry_after === "number" ? answer.body.retry_after * 1000 : backoff(round++));
        continue;
      }
      ask.final = answer;
      return answer;
    }
    return null;
  }

  /** Sleeps, but no longer than until finish(). */
  private pause(ms: number): Promise<void> {
    if (this.givenUp) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pauses.add(done);
    });
  }

  private async loop(deviceIndex: number): Promise<void> {
    const device = this.options.devices[deviceIndex]!;
    for (let n = 0; this.loading; n++) {
      this.busy++;
      try {
        await this.uploadOne(deviceIndex, device, n);
      } finally {
        this.busy--;
      }
      await this.pause(this.options.pauseMs * (0.5 + Math.random()));
    }
  }

  private async uploadOne(deviceIndex: number, device: TDeviceIdentity, n: number): Promise<void> {
    const { minBytes, maxBytes } = this.options;
    const bytes = randomBytes(minBytes + Math.floor(Math.random() * (maxBytes - minBytes + 1)));
    const filename = `faults/${n}.bin`;
    const requestId = `${device.serial}-${n}`;
    const file: TUploadedFile = {
      objectKey: `sessions/${device.serial}/${device.sessionId}/${filename}`,
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      posted: false,
    };
    this.files.push(file);
    let mayHaveLanded = false;
    for (let round = 0; !this.givenUp; round++) {
      const answer = await this.ask(deviceIndex, "file_upload/request", {
        session_id: device.sessionId,
        filename,
        content_type: "application/octet-stream",
        size_mb: 1,
        request_id: requestId,
      });
      if (!answer) return;
      if (answer.status !== 200) {
        if (answer.code === "file_exists" && mayHaveLanded) break;
        this.refused[answer.code ?? String(answer.status)] = (this.refused[answer.code ?? String(answer.status)] ?? 0) + 1;
        return;
      }
      const form = answer.body as { url: string; fields: Record<string, string> };
      mayHaveLanded = true;
      const status = await postForm(form, bytes, this.options.uploadBytesPerSecond).catch(() => 0);
      if (status === 204) {
        file.posted = true;
        break;
      }
      this.failedPosts++;
      if (status !== 403) await this.pause(backoff(round));
    }
    if (this.givenUp) return;
    await this.ask(deviceIndex, "file_upload/complete", { object_key: file.objectKey, request_id: `${requestId}-complete` });
  }
}

/**
 * POSTs the file with its form (fields first, the file last, in a part named `file`), sending the
 * body in slices at `bytesPerSecond`.
 */
function postForm(form: { url: string; fields: Record<string, string> }, bytes: Buffer, bytesPerSecond: number): Promise<number> {
  const boundary = `----fleetdropfaults${randomBytes(8).toString("hex")}`;
  let head = "";
  for (const [name, value] of Object.entries(form.fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const slice = 16 * 1024;
  return new Promise((resolve, reject) => {
    const req = httpRequest(form.url, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length },
      timeout: 30_000,
    });
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
      res.once("error", reject);
    });
    req.once("timeout", () => req.destroy(new Error("upload timed out")));
    req.once("error", reject);
    const started = Date.now();
    const send = (offset: number) => {
      if (req.destroyed) return;
      if (offset >= body.length) {
        req.end();
        return;
      }
      req.write(body.subarray(offset, offset + slice));
      const next = offset + slice;
      setTimeout(() => send(next), Math.max(0, started + (next / bytesPerSecond) * 1000 - Date.now()));
    };
    send(0);
  });
}
