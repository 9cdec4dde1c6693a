/**
 * The demo device of `npm start`: the seeded device, connected with the real device SDK, so a
 * newcomer sees the capture and command round trips without hardware. It answers
 * - "Request capture" with a PNG generated in code (a new picture each time), and
 * - command lists with a few built-in, harmless commands (`uptime`, `date`, `hostname`,
 *   `echo …`): it never runs a shell, since whoever edits the list would run code on this machine.
 */
import { hostname, uptime } from "node:os";
import { FleetdropDevice, type TDeviceOptions } from "@fleetdrop/device/client";
import { generatedCapture } from "@fleetdrop/device/demo-image";
import type { TCommandRunner } from "@fleetdrop/device/commands";

export const demoCommandRunner: TCommandRunner = async (command) => {
  const [name, ...args] = command.trim().split(/\s+/);
  switch (name) {
    case "uptime":
      return { result: `up ${Math.round(uptime() / 60)} minutes`, status: "success" };
    case "date":
      return { result: new Date().toISOString(), status: "success" };
    case "hostname":
      return { result: hostname(), status: "success" };
    case "echo":
      return { result: args.join(" "), status: "success" };
    default:
      return { result: `the demo device only knows uptime, date, hostname and echo (not ${JSON.stringify(name)})`, status: "error" };
  }
};

export type TDemoDevice = { stop(): Promise<void> };

export async function startDemoDevice(options: { connection: TDeviceOptions; print: (line: string) => void }): Promise<TDemoDevice> {
  // Its own client id: `npm run device -- upload` connects as the same device meanwhile.
  const device = await FleetdropDevice.connect({
    ...options.connection,
    clientId: `${options.connection.deviceId}/demo`,
    announcePresence: true,
    timeoutMs: 15_000,
  });
  const listener = await device.listen({
    onCapture: async (command) => generatedCapture(command.request_id),
    onCommands: demoCommandRunner,
    onCaptured: (command, upload) => options.print(`[demo-device] captured for ${command.request_id} → ${upload.objectKey}`),
    onReported: (notice, report) =>
      options.print(`[demo-device] ran ${report.commands.length} command(s) of ${notice.service}: ${report.general_status}`),
    onError: (error) => options.print(`[demo-device] ${error.message}`),
  });
  return {
    async stop() {
      await listener.stop();
      await device.close();
    },
  };
}
