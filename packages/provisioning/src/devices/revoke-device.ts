/**
 * Revokes a device's credentials for good (a lost or stolen device): its certificates are
 * revoked in the CRL, its password hashes are erased, and the device is disabled. Its sessions
 * and files stay. To bring it back: rotate (new credentials), then enable.
 */
import { notifyDeviceAuthChanged } from "../broker/notify";
import type { TProvisioningContext } from "../context";
import type { TCrlReason } from "../crypto/x509";
import { findDeviceOrThrow } from "./find-device";

export async function revokeDevice(
  ctx: TProvisioningContext,
  input: { serial: string; projectId?: string; reason?: Exclude<TCrlReason, "certificateHold"> },
): Promise<{ revokedCertificates: number }> {
  const device = await findDeviceOrThrow(ctx, input);
  const now = new Date();
  return ctx.prisma.$transaction(async (tx) => {
    const revoked = await tx.deviceCertificate.updateMany({
      where: { deviceId: device.id, OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] },
      data: { revokedAt: now, revocationReason: input.reason ?? "keyCompromise" },
    });
    await tx.device.update({ where: { id: device.id }, data: { enabled: false, passwordHash: null, brokerPasswordHash: null } });
    await tx.deviceCredentialEvent.create({
      data: {
        deviceId: device.id,
        action: "revoked",
        authMode: device.authMode,
        actorLabel: ctx.actor,
        details: { reason: input.reason ?? "keyCompromise", revokedCertificates: revoked.count },
      },
    });
    await notifyDeviceAuthChanged(tx, device.serial);
    return { revokedCertificates: revoked.count };
  });
}
