import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TDeviceCredentials = {
  authMode: "password" | "certificate";
  /**
   * When the current credentials were issued; null where that was not recorded: a device whose
   * password came with it when it was added (`addedWithPassword`, e.g. the seeded demo device), or
   * one with no credentials at all.
   */
  issuedAt: string | null;
  addedAt: string;
  addedWithPassword: boolean;
  /** Certificates not yet expired, newest first, with their revocation state. */
  certificates: {
    serialNumber: string;
    fingerprint: string;
    notAfter: string;
    revokedAt: string | null;
    revocationReason: string | null;
  }[];
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
      createdAt: true,
      // Only whether one is set: the hash itself never leaves this function.
      passwordHash: true,
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
    addedAt: device.createdAt.toISOString(),
    addedWithPassword: device.passwordHash !== null,
    certificates: device.certificates.map((c) => ({
      ...c,
      notAfter: c.notAfter.toISOString(),
      revokedAt: c.revokedAt?.toISOString() ?? null,
    })),
    events: device.credentialEvents.map((e) => ({ at: e.at.toISOString(), action: e.action, authMode: e.authMode, actor: e.actorLabel })),
  };
}
