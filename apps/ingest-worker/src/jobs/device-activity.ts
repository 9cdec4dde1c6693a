/**
 * Device activity in the worker: when each device was last heard from, and the requests refused
 * per device, code and hour (the overview's counts). The router reports both as requests come;
 * they are written every few seconds in one statement each, and once more when the worker stops.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { recordRefusals, refusalKey, touchDevices, type TRefusalCounts } from "../db/devices";
import type { TWorkerFeature } from "../feature";

/** A flood of distinct refusal keys between two writes is not worth the memory. */
const MAX_REFUSAL_KEYS = 50_000;

export type TDeviceActivityFeature = TWorkerFeature & {
  onDeviceSeen: (deviceId: string) => void;
  onRefused: (deviceId: string, code: string) => void;
};

export function createDeviceActivityFeature(deps: { pool: Pool }): TDeviceActivityFeature {
  const seen = new Map<string, Date>();
  let refusals: TRefusalCounts = new Map();
  return {
    name: "device-activity",
    onDeviceSeen: (deviceId) => seen.set(deviceId, new Date()),
    onRefused(deviceId, code) {
      const hour = new Date();
      hour.setUTCMinutes(0, 0, 0);
      const key = refusalKey(deviceId, code, hour);
      if (refusals.size < MAX_REFUSAL_KEYS || refusals.has(key)) refusals.set(key, (refusals.get(key) ?? 0) + 1);
    },
    jobs: [
      {
        name: "last-seen",
        intervalMs: 5000,
        async run() {
          const batch = new Map(seen);
          seen.clear();
          await touchDevices(deps.pool, batch);
          const refused = refusals;
          refusals = new Map();
          await recordRefusals(deps.pool, refused);
        },
      },
    ],
    // What came after the last write; listed first, so it stops after every feature that answers requests.
    async stop() {
      await touchDevices(deps.pool, seen).catch(() => {});
      await recordRefusals(deps.pool, refusals).catch(() => {});
    },
  };
}
