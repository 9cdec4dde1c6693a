import "server-only";
import { randomUUID } from "node:crypto";
import { createTopics } from "@fleetdrop/shared/topics";
import { env } from "@/env";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { BrokerUnavailableError, publishCommand, type TPublish } from "@/server/mqtt/command-publisher";
import { parseSessionId } from "./get-session";
import { devicePresence, type TPresence } from "@/server/captures/device-presence";

/**
 * Asks the session's device to capture now (docs/protocol.md#capture): publishes
 * `P/fleet/D/commands` `{type: "capture", request_id, session_id}`. The device uploads through
 * the usual presigned flow with that request_id, and the file shows up live in the session.
 */
export async function requestCapture(options: {
  ctx: TProjectContext;
  sessionId: number | string;
  publish?: TPublish;
  /** How the device's presence is read (tests); default: the retained presence, else last seen. */
  presence?: (serial: string, lastSeenAt: Date | null) => Promise<TPresence>;
}): Promise<{ requestId: string; presence: TPresence }> {
  const { ctx } = options;
  requireRole(ctx, CAN.capture);
  const id = parseSessionId(options.sessionId);
  const session = await db().session.findFirst({
    where: { id, projectId: ctx.project.id },
    select: { state: true, device: { select: { serial: true, enabled: true, lastSeenAt: true } } },
  });
  if (!session) throw new NotFoundError("No such session");
  if (session.state !== "open") throw new UserInputError("The session is closed: reopen it to capture into it");
  if (!session.device.enabled) throw new UserInputError("The device is disabled: enable it to ask for a capture");
  const requestId = `capture-${randomUUID()}`;
  // Read before publishing: the answer says whether anyone is there to hear the request.
  const presence = await (options.presence ?? devicePresence)(session.device.serial, session.device.lastSeenAt);
  const topic = createTopics(env.TOPIC_PREFIX).device(session.device.serial).commands;
  try {
    await (options.publish ?? publishCommand)(topic, { type: "capture", request_id: requestId, session_id: id });
  } catch (error) {
    if (error instanceof BrokerUnavailableError)
      throw new UserInputError(`The request could not be sent (${error.message}). Try again in a moment.`);
    throw error;
  }
  await writeAudit(ctx, {
    action: "session.capture",
    targetType: "session",
    targetId: id,
    details: { device: session.device.serial, requestId, sessionId: id, presence: presence.state, presenceSource: presence.source },
  });
  return { requestId, presence };
}
