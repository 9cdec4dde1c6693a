/** agent/status (docs/protocol.md#agentstatus): keeps the last report of a device's upload agent for the dashboard. */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { storeAgentStatus } from "../db/agent-status";
import { findDevice } from "../db/devices";
import type { THandler } from "../router";

export function createAgentStatusHandler(deps: { pool: Pool }): THandler<"agentStatus"> {
  return {
    async handle(message, { deviceId }) {
      const device = await findDevice(deps.pool, deviceId);
      if (!device) throw new ProtocolError("device_unknown");
      if (!device.enabled) throw new ProtocolError("device_disabled");
      const receivedAt = await storeAgentStatus(deps.pool, {
        deviceUuid: device.id,
        backlogFiles: message.backlog_files,
        backlogBytes: message.backlog_bytes,
        oldestWaitingAt: message.oldest_waiting_at ?? null,
        lastError: message.last_error ?? null,
        lastErrorAt: message.last_error ? (message.last_error_at ?? null) : null,
      });
      return { received_at: receivedAt.toISOString() };
    },
  };
}
