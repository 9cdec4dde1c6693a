/**
 * Simulated devices in a closed loop (file_upload/request): each sends a `file_upload/request`,
 * waits for the answer carrying its request_id, then sends the next, until time is up.
 * Shared by the core benchmark and the scale-out benchmark.
 */
import { disableNagle } from "@fleetdrop/mqtt-internals";
import mqtt, { type MqttClient } from "mqtt";

/** Devices are `${serialPrefix}${i}` (i from 0), each with its open session `sessionIds[i]`. */
export async function connectDevices(url: string, count: number, serialPrefix: string, clientIdPrefix: string): Promise<MqttClient[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = await mqtt.connectAsync(url, { clientId: `${clientIdPrefix}-${i}`, protocolVersion: 5, clean: true });
      disableNagle(client);
      await client.subscribeAsync(`fleetdrop/fleet/${serialPrefix}${i}/file_upload/response`, { qos: 1 });
      return client;
    }),
  );
}

export type TLoopResult = { latencies: number[]; errors: number; elapsed: number };

export async function closedLoop(
  clients: MqttClient[],
  options: { serialPrefix: string; sessionIds: number[]; seconds: number; round: string },
): Promise<TLoopResult> {
  const { serialPrefix, sessionIds, seconds, round } = options;
  const latencies: number[] = [];
  let errors = 0;
  let stop = false;
  const started = performance.now();
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(
    clients.map(
      (client, i) =>
        new Promise<void>((resolve) => {
          let n = 0;
          let sentAt = 0;
          let expected = "";
          const topic = `fleetdrop/fleet/${serialPrefix}${i}/file_upload/request`;
          const send = () => {
            if (stop) {
              client.removeAllListeners("message");
              return resolve();
            }
            expected = `${round}-${i}-${n++}`;
            sentAt = performance.now();
            client.publish(
              topic,
              `{"session_id":${sessionIds[i]},"filename":"bench/${expected}.bin",` +
                `"content_type":"application/octet-stream","size_mb":10,"request_id":"${expected}"}`,
              { qos: 1 },
            );
          };
          client.on("message", (_topic, payload) => {
            const text = payload.toString();
            if (!text.includes(`"request_id":"${expected}"`)) return;
            latencies.push(performance.now() - sentAt);
            if (!text.startsWith('{"success":true')) errors++;
            send();
          });
          send();
        }),
    ),
  );
  clearTimeout(timer);
  return { latencies, errors, elapsed: (performance.now() - started) / 1000 };
}

/** The q-quantile of an ascending array. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
