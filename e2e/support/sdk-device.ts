/** A device of the e2e world, connected with the real device SDK to the suite's Mosquitto. */
import { FleetdropDevice } from "@fleetdrop/device/client";

export function connectDevice(serial: string, options: { listening?: boolean } = {}): Promise<FleetdropDevice> {
  return FleetdropDevice.connect({
    url: process.env.FLEETDROP_E2E_MQTT_URL!,
    deviceId: serial,
    clientId: `${serial}-${options.listening ? "listen" : "cli"}-${Math.random().toString(36).slice(2, 8)}`,
    announcePresence: options.listening ?? false,
    timeoutMs: 10_000,
  });
}
