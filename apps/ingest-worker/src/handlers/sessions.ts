/** session/open and session/close (docs/protocol.md#sessions): open and close the device's own sessions. */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { MAX_SESSION_ID } from "@fleetdrop/shared/names";
import { auditDeviceAction } from "../db/audit";
import { findDevice, type TDeviceRecord } from "../db/devices";
import { closeSession, findSession, openDeviceSession, type TSessionRecord } from "../db/sessions";
import type { THandler } from "../router";

async function requireDevice(pool: Pool, deviceId: string): Promise<TDeviceRecord> {
  const device = await findDevice(pool, deviceId);
  if (!device) throw new ProtocolError("device_unknown");
  if (!device.enabled) throw new ProtocolError("device_disabled");
  if (!device.devicesManageSessions) throw new ProtocolError("device_sessions_disabled");
  return device;
}

const sessionBody = (session: TSessionRecord) => ({
  session_id: session.id,
  name: session.name,
  state: session.state,
  started_at: session.startedAt.toISOString(),
  ended_at: session.endedAt?.toISOString() ?? null,
});

function defaultSessionName(now = new Date()): string {
  return `Session ${now.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function createSessionOpenHandler(deps: { pool: Pool }): THandler<"sessionOpen"> {
  return {
    async handle(message, { deviceId, requestId, log }) {
      const device = await requireDevice(deps.pool, deviceId);
      const session = await openDeviceSession(deps.pool, {
        deviceUuid: device.id,
        projectId: device.projectId,
        name: message.name ?? defaultSessionName(),
        metadata: message.metadata ?? undefined,
        requestId,
      });
      if (session.created) {
        await auditDeviceAction(deps.pool, {
          projectId: device.projectId,
          deviceId,
          action: "session.open",
          targetType: "session",
          targetId: String(session.id),
          details: { name: session.name },
        }).catch((error: unknown) => log.warn({ err: error }, "could not write the audit entry"));
      }
      return sessionBody(session);
    },
  };
}

export function createSessionCloseHandler(deps: { pool: Pool }): THandler<"sessionClose"> {
  return {
    async handle(message, { deviceId, log }) {
      const device = await requireDevice(deps.pool, deviceId);
      if (message.session_id > MAX_SESSION_ID) throw new ProtocolError("session_not_found");
      const session = await findSession(deps.pool, message.session_id);
      if (!session) throw new ProtocolError("session_not_found");
      if (session.deviceUuid !== device.id) throw new ProtocolError("session_not_owned");
      if (session.state === "closed") return sessionBody(session);
      const closed = await closeSession(deps.pool, session.id);
      await auditDeviceAction(deps.pool, {
        projectId: device.projectId,
        deviceId,
        action: "session.close",
        targetType: "session",
        targetId: String(session.id),
      }).catch((error: unknown) => log.warn({ err: error }, "could not write the audit entry"));
      return sessionBody(closed);
    },
  };
}
