/**
 * Disable (reversible) or enable a device. A disabled device is refused by the ingest worker on
 * its next request (403 device_disabled), and the broker sync cuts it off: a password device
 * leaves the broker's password file, a certificate device's certificates go on hold in its
 * project's CRL and its topics are denied while it is still connected.
 */
import { notifyDeviceAuthChanged } from "../broker/notify";
import type { TProvisioningContext } from "../context";
import { findDeviceOrThrow } from "./find-device";

export async function setDeviceEnabled(
  ctx: TProvisioningContext,
  input: { serial: string; projectId?: string; enabled: boolean },
): Promise<void> {
  const device = await findDeviceOrThrow(ctx, input);
  await ctx.prisma.$transaction(async (tx) => {
    await tx.device.update({ where: { id: device.id }, data: { enabled: input.enabled } });
    await tx.deviceCredentialEvent.create({
      data: { deviceId: device.id, action: input.enabled ? "enabled" : "disabled", authMode: device.authMode, actorLabel: ctx.actor },
    });
    await notifyDeviceAuthChanged(tx, device.serial);
  });
}
