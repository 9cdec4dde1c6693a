import "server-only";
import { CAN } from "@/lib/roles";
import { toPresence, type TDevicePresence } from "@/lib/presence";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

/** Presence of the project's devices by serial (one device with `serial`), for the live badges. */
export async function listPresence(options: { ctx: TProjectContext; serial?: string }): Promise<Record<string, TDevicePresence>> {
  requireRole(options.ctx, CAN.browse);
  const rows = await db().device.findMany({
    where: { projectId: options.ctx.project.id, ...(options.serial === undefined ? {} : { serial: options.serial }) },
    select: { serial: true, presenceOnline: true, presenceSince: true, presenceVia: true },
  });
  return Object.fromEntries(rows.map((row) => [row.serial, toPresence(row)]));
}
