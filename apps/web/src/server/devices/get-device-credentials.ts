import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TDeviceCredentials = {
  authMode: "password" | "certificate";
  issuedAt: string | null;
  /** Certificates not yet expired, newest first, with their revocation state. */
  certificates: { serialNumber: string; fingerprint: string; notAfter: string; revokedAt: string | null; revocationReason: string | null }[];
  /** The credential history, newest first (at most 20). */
  events: { at: string; action: string; authMode: string; actor: string }[];
};

/** What a device signs in with and what happened to its credentials (admins only: it names people). */
export async function getDeviceCredentials(options: { ctx: TProjectContext; serial: string }): Promise<TDeviceCredentials> {
  requireRole(options.ctx, CAN.manageDevices);
  const device = await db().device.findFirst({
    where: { serial: options.serial, projectId: options.ctx.project.id },
    select: {
      authMode: true,
      credentialsIssuedAt: true,
      certificates: {
        where: { notAfter: { gt: new Date() } },
        orderBy: { createdAt: "desc" },
        take: 5,
        select: { serialNumber: true, fingerprint: true, notAfter: true, revokedAt: true, revocationReason: true },
      },
      credentialEvents: { orderBy: { at: "desc" }, take: 20, select: { at: true, action: true, authMode: true, actorLabel: true } },
    },
  });
  if (!device) throw new NotFoundError("No such device");
  return {
    authMode: device.authMode,
    issuedAt: device.credentialsIssuedAt?.toISOString() ?? null,
    certificates: device.certificates.map((c) => ({ ...c, notAfter: c.notAfter.toISOString(), revokedAt: c.revokedAt?.toISOString() ?? null })),
    events: device.credentialEvents.map((e) => ({ at: e.at.toISOString(), action: e.action, authMode: e.authMode, actor: e.actorLabel })),
  };
}
