/**
 * What every store request (docs/protocol.md#stores) checks first: the device is known and enabled, the store exists
 * and the device may use it that way, and the path stays inside what the device may use.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { storePathProblem } from "@fleetdrop/shared/protocol/stores";
import type { TNamedStore } from "@fleetdrop/storage/named-stores";
import { findDevice, type TDeviceRecord } from "../db/devices";
import type { TNamedStores } from "../stores/named-stores";

export type TResolvedStorePath = { device: TDeviceRecord; entry: TNamedStore; key: string; objectKey: string };

export async function resolveStorePath(
  deps: { pool: Pool; stores: TNamedStores },
  request: { deviceId: string; store: string; path: string; access: "read" | "write" },
): Promise<TResolvedStorePath> {
  const entry = deps.stores.get(request.store);
  if (!entry)
    throw new ProtocolError(
      "store_not_found",
      `No store named "${request.store}" is configured (stores: ${[...deps.stores.keys()].join(", ")})`,
    );
  const problem = storePathProblem(request.path);
  if (problem) throw new ProtocolError(problem.kind === "escape" ? "path_not_allowed" : "invalid_path", problem.reason);
  const device = await findDevice(deps.pool, request.deviceId);
  if (!device) throw new ProtocolError("device_unknown");
  if (!device.enabled) throw new ProtocolError("device_disabled");
  if (!entry.deviceAccess.includes(request.access)) {
    throw new ProtocolError(
      "store_access_denied",
      request.access === "read"
        ? `Devices may not download from the "${entry.name}" store`
        : `Devices may not upload into the "${entry.name}" store`,
    );
  }
  const key = entry.perDevice ? `${request.deviceId}/${request.path}` : request.path;
  return { device, entry, key, objectKey: entry.store.prefix + key };
}
