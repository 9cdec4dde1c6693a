import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { requestCapture } from "@/server/sessions/request-capture";

/**
 * "Capture" on a device's page: into the device's most recently started open session (the
 * capture command needs a session to upload into).
 */
export async function requestDeviceCapture(
  options: { ctx: TProjectContext; serial: string } & Omit<Parameters<typeof requestCapture>[0], "ctx" | "sessionId">,
) {
  const { ctx, serial, ...rest } = options;
  requireRole(ctx, CAN.capture);
  const device = await db().device.findFirst({ where: { serial, projectId: ctx.project.id }, select: { id: true } });
  if (!device) throw new NotFoundError("No such device");
  const session = await latestOpenSession(device.id);
  if (!session) throw new UserInputError("The device has no open session to capture into: open one first (Sessions → New session)");
  return { ...(await requestCapture({ ctx, sessionId: session.id, ...rest })), sessionId: session.id };
}

export async function latestOpenSession(deviceId: string): Promise<{ id: number; name: string } | null> {
  return db().session.findFirst({
    where: { deviceId, state: "open" },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
    select: { id: true, name: true },
  });
}
