/**
 * On the first start, the demo device sends a few sample files into its open session through
 * the real protocol (request → form → POST to the store → completion), so a newcomer who signs
 * in finds pictures, a log and JSON to preview and download straight away.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetdropDevice, type TDeviceOptions } from "@fleetdrop/device/client";
import { demoFrame } from "@fleetdrop/device/demo-image";

export type TSampleFile = { filename: string; contentType: string; data: Buffer };

const LOG_COMPONENTS = ["nav", "camera", "battery", "lidar", "planner", "mqtt"] as const;

/** The sample files, generated (deterministic for a given start time). */
export function demoSampleFiles(now: Date = new Date()): TSampleFile[] {
  const frames = [0, 1, 2].map((index) => {
    const at = new Date(now.getTime() - (2 - index) * 60_000);
    return {
      filename: `camera/frame-${String(index + 1).padStart(4, "0")}.png`,
      contentType: "image/png",
      data: demoFrame(`demo-frame-${index}`, at),
    };
  });

  const lines: string[] = [];
  const start = now.getTime() - 3_600_000;
  for (let i = 0; i < 5_000; i++) {
    const at = new Date(start + i * 720).toISOString();
    const component = LOG_COMPONENTS[i % LOG_COMPONENTS.length]!;
    const level = (i + 1) % 1_013 === 0 ? "ERROR" : (i + 1) % 97 === 0 ? "WARN" : "INFO";
    lines.push(`${at} ${level.padEnd(5)} [${component}] ${logMessage(component, i)}`);
  }

  const telemetry = {
    device: "DEMO-001",
    recorded_at: now.toISOString(),
    battery: { percent: 82.5, voltage: 25.1, charging: false },
    position: { lat: 48.8584, lon: 2.2945, heading_deg: 131 },
    sensors: [
      { name: "lidar", ok: true, hz: 10 },
      { name: "camera", ok: true, fps: 15 },
    ],
  };

  return [
    ...frames,
    { filename: "logs/robot.log", contentType: "text/plain", data: Buffer.from(`${lines.join("\n")}\n`) },
    { filename: "telemetry.json", contentType: "application/json", data: Buffer.from(JSON.stringify(telemetry)) },
  ];
}

function logMessage(component: (typeof LOG_COMPONENTS)[number], i: number): string {
  switch (component) {
    case "nav":
      return `waypoint ${i % 40} reached, error ${(i % 13) / 10} m`;
    case "camera":
      return `frame ${i} exposure ${(8 + (i % 5)).toFixed(1)} ms`;
    case "battery":
      return `level ${(100 - i / 100).toFixed(1)} %`;
    case "lidar":
      return `scan ${i}: ${1800 + (i % 50)} points`;
    case "planner":
      return `replanned in ${12 + (i % 9)} ms`;
    case "mqtt":
      return `heartbeat sent (seq ${i})`;
  }
}

/** Uploads the sample files into the session as the demo device; returns the names sent. */
export async function uploadDemoSamples(options: { connection: TDeviceOptions; sessionId: number }): Promise<string[]> {
  const folder = await mkdtemp(path.join(tmpdir(), "fleetdrop-demo-"));
  const device = await FleetdropDevice.connect({ ...options.connection, clientId: `${options.connection.deviceId}/samples` });
  try {
    const sent: string[] = [];
    for (const [index, sample] of demoSampleFiles().entries()) {
      const local = path.join(folder, `sample-${index}`);
      await writeFile(local, sample.data);
      await device.uploadFile({ sessionId: options.sessionId, path: local, filename: sample.filename, contentType: sample.contentType });
      sent.push(sample.filename);
    }
    return sent;
  } finally {
    await device.close();
    await rm(folder, { recursive: true, force: true });
  }
}
