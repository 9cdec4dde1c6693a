/** A raw file_transfer device for tests: publishes init/segments/fin/status/abort and collects the answers. */
import { createHash, randomBytes } from "node:crypto";
import type { TMosquitto } from "@fleetdrop/test-broker";
import mqtt, { type MqttClient } from "mqtt";

export type TAnswer = Record<string, unknown> & { file_id: string; command: string; success: boolean; status: number; code?: string };

export async function transferDevice(broker: TMosquitto, deviceId: string) {
  const client: MqttClient = await mqtt.connectAsync(broker.url, {
    clientId: `${deviceId}-tx-${Math.random().toString(36).slice(2)}`,
    protocolVersion: 5,
  });
  const base = `fleetdrop/fleet/${deviceId}/file_transfer/`;
  const inbox: TAnswer[] = [];
  client.on("message", (_topic, payload) => inbox.push(JSON.parse(payload.toString()) as TAnswer));
  await client.subscribeAsync(`${base}response`, { qos: 1 });

  const next = async (predicate: (answer: TAnswer) => boolean, timeoutMs = 15_000): Promise<TAnswer> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = inbox.findIndex(predicate);
      if (index >= 0) return inbox.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no matching answer within ${timeoutMs} ms; inbox: ${JSON.stringify(inbox)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const command = async (fileId: string, suffix: string, payload: string | Buffer = "") => {
    await client.publishAsync(`${base}${fileId}/${suffix}`, payload, { qos: 1 });
    const name = suffix.split("/")[0] === "fin" ? "fin" : suffix;
    return next((answer) => answer.file_id === fileId && answer.command === name);
  };
  return {
    client,
    inbox,
    next,
    init: (fileId: string, body: Record<string, unknown>) => command(fileId, "init", JSON.stringify(body)),
    segment: (fileId: string, offset: number, bytes: Buffer) => client.publishAsync(`${base}${fileId}/${offset}`, bytes, { qos: 1 }),
    fin: (fileId: string, size: number, sha256?: string) => command(fileId, `fin/${size}${sha256 ? `/${sha256}` : ""}`),
    status: (fileId: string) => command(fileId, "status"),
    abort: (fileId: string) => command(fileId, "abort"),
    raw: (suffix: string, payload: string | Buffer = "") => client.publishAsync(`${base}${suffix}`, payload, { qos: 1 }),
    close: () => client.endAsync(),
  };
}

export function randomFile(size: number) {
  const bytes = randomBytes(size);
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** `[offset, bytes]` segments of `size` bytes each, shuffled. */
export function shuffledSegments(bytes: Buffer, size: number): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let offset = 0; offset < bytes.length; offset += size) out.push([offset, bytes.subarray(offset, offset + size)]);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
