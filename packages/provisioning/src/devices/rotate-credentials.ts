/**
 * New credentials for an existing device — same device row, so its sessions, files and history
 * stay. The old password stops working at once; an old certificate is revoked as `superseded`,
 * at once or after a grace period (so a fleet can roll the new certificate out first). The
 * authentication mode may change at the same time.
 */
import { notifyDeviceAuthChanged } from "../broker/notify";
import type { TProvisioningContext } from "../context";
import { certificateRow, deviceColumns, issuedFrom, prepareCredentials, type TAuthMode } from "./credentials";
import type { TCreatedDevice } from "./create-device";
import { findDeviceOrThrow } from "./find-device";

export async function rotateDeviceCredentials(
  ctx: TProvisioningContext,
  input: { serial: string; projectId?: string; authMode?: TAuthMode; graceSeconds?: number },
): Promise<TCreatedDevice> {
  const device = await findDeviceOrThrow(ctx, input);
  const authMode = input.authMode ?? device.authMode;
  const prepared = await prepareCredentials(ctx, { projectId: device.projectId, serial: device.serial, authMode });
  const revokeAt = new Date(Date.now() + Math.max(0, input.graceSeconds ?? 0) * 1000);
  const updated = await ctx.prisma.$transaction(async (tx) => {
    const superseded = await tx.deviceCertificate.updateMany({
      where: { deviceId: device.id, OR: [{ revokedAt: null }, { revokedAt: { gt: revokeAt } }] },
      data: { revokedAt: revokeAt, revocationReason: "superseded" },
    });
    const row = await tx.device.update({
      where: { id: device.id },
      data: deviceColumns(prepared),
      select: { id: true, serial: true, name: true, projectId: true, authMode: true, enabled: true },
    });
    const certificate =
      prepared.authMode === "certificate"
        ? await tx.deviceCertificate.create({ data: certificateRow(prepared, device.id, device.serial), select: { id: true } })
        : null;
    await tx.deviceCredentialEvent.create({
      data: {
        deviceId: device.id,
        action: "rotated",
        authMode: prepared.authMode,
        certificateId: certificate?.id,
        actorLabel: ctx.actor,
        details: {
          previousAuthMode: device.authMode,
          supersededCertificates: superseded.count,
          oldCertificatesRevokedAt: revokeAt.toISOString(),
        },
      },
    });
    await notifyDeviceAuthChanged(tx, device.serial);
    return row;
  });
  return { device: updated, credentials: issuedFrom(prepared) };
}
