import "server-only";
import { parseAuditDetails } from "@fleetdrop/shared/audit";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

/** How long the dashboard waits for the device's upload before saying "timed out". */
export const CAPTURE_TIMEOUT_MS = 45_000;

export type TCaptureState = "waiting" | "uploading" | "arrived" | "timed_out" | "offline" | "failed";

export type TCaptureStatus = {
  requestId: string;
  state: TCaptureState;
  sessionId: number;
  device: string;
  requestedAt: string;
  /** Seconds left before "timed out" while waiting. */
  secondsLeft: number;
  file: { id: string; filename: string; contentType: string; size: string | null; state: string } | null;
};

/**
 * Where a capture request stands. The request is the audit entry `session.capture` (details:
 * requestId, sessionId, device, presence); the answer is the session's file whose upload
 * request carried that request_id. A file wins over every other state, so a device that comes
 * back online late still shows "arrived".
 */
export async function getCaptureStatus(options: { ctx: TProjectContext; requestId: string; now?: Date }): Promise<TCaptureStatus> {
  requireRole(options.ctx, CAN.browse);
  if (!/^capture-[0-9a-f-]{36}$/.test(options.requestId)) throw new NotFoundError("No such capture request");
  const entry = await db().auditLog.findFirst({
    where: { projectId: options.ctx.project.id, action: "session.capture", details: { path: ["requestId"], equals: options.requestId } },
    select: { at: true, targetId: true, details: true },
  });
  if (!entry) throw new NotFoundError("No such capture request");
  // A row from an older version that does not parse still has its device and presence read.
  const details: { device?: string; presence?: string } =
    parseAuditDetails("session.capture", entry.details) ?? ((entry.details ?? {}) as { device?: string; presence?: string });
  const sessionId = Number(entry.targetId);
  const file = await db().file.findFirst({
    where: { sessionId, requestId: options.requestId, session: { projectId: options.ctx.project.id } },
    orderBy: { issuedAt: "desc" },
    select: { id: true, filename: true, contentType: true, storedContentType: true, size: true, state: true },
  });
  const now = (options.now ?? new Date()).getTime();
  const elapsed = now - entry.at.getTime();
  let state: TCaptureState;
  if (file?.state === "uploaded") state = "arrived";
  else if (file?.state === "pending") state = "uploading";
  else if (file) state = "failed";
  else if (details.presence === "offline") state = "offline";
  else state = elapsed > CAPTURE_TIMEOUT_MS ? "timed_out" : "waiting";
  return {
    requestId: options.requestId,
    state,
    sessionId,
    device: details.device ?? "",
    requestedAt: entry.at.toISOString(),
    secondsLeft: Math.max(0, Math.ceil((CAPTURE_TIMEOUT_MS - elapsed) / 1000)),
    file: file
      ? {
          id: file.id,
          filename: file.filename,
          contentType: file.storedContentType ?? file.contentType,
          size: file.size?.toString() ?? null,
          state: file.state,
        }
      : null,
  };
}
