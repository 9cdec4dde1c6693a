/**
 * Registers a device with its credentials: a generated password, or a key pair and an X.509
 * client certificate (CN = serial) issued by the project's device CA. The secret is returned
 * once; the database keeps only hashes (password) or the certificate (never the device key).
 */
import { Prisma } from "@fleetdrop/db";
import { isValidDeviceId } from "@fleetdrop/shared/names";
import { notifyDeviceAuthChanged } from "../broker/notify";
import { ProvisioningError, RESERVED_DEVICE_IDS, type TProvisioningContext } from "../context";
import { certificateRow, deviceColumns, issuedFrom, prepareCredentials, type TAuthMode, type TIssuedCredentials } from "./credentials";

export type TDeviceSummary = { id: string; serial: string; name: string; projectId: string; authMode: TAuthMode; enabled: boolean };

export type TCreatedDevice = { device: TDeviceSummary; credentials: TIssuedCredentials };

export function assertUsableSerial(serial: string): void {
  // The type guard below narrows a refused `serial` to never; the message quotes it as given.
  const given = serial;
  if (!isValidDeviceId(serial)) {
    throw new ProvisioningError(
      "invalid_serial",
      `"${given}" is not a valid device id: 1-64 of A-Z a-z 0-9 _ . - , starting with a letter or digit`,
    );
  }
  if (RESERVED_DEVICE_IDS.includes(serial.toLowerCase())) {
    throw new ProvisioningError("reserved_serial", `"${serial}" is reserved for the platform's own services`);
  }
}

export async function createDevice(
  ctx: TProvisioningContext,
  input: { projectId: string; serial: string; name?: string; authMode: TAuthMode },
): Promise<TCreatedDevice> {
  assertUsableSerial(input.serial);
  if (await ctx.prisma.device.findUnique({ where: { serial: input.serial }, select: { id: true } })) {
    // Serials are unique across the platform: don't say in which project it is.
    throw new ProvisioningError("serial_taken", `A device with serial ${input.serial} is already registered`);
  }
  const prepared = await prepareCredentials(ctx, input);
  try {
    const device = await ctx.prisma.$transaction(async (tx) => {
      const created = await tx.device.create({
        data: { serial: input.serial, name: input.name?.trim() || input.serial, projectId: input.projectId, ...deviceColumns(prepared) },
        select: { id: true, serial: true, name: true, projectId: true, authMode: true, enabled: true },
      });
      const certificate =
        prepared.authMode === "certificate"
          ? await tx.deviceCertificate.create({ data: certificateRow(prepared, created.id, created.serial), select: { id: true } })
          : null;
      await tx.deviceCredentialEvent.create({
        data: {
          deviceId: created.id,
          action: "issued",
          authMode: prepared.authMode,
          certificateId: certificate?.id,
          actorLabel: ctx.actor,
        },
      });
      await notifyDeviceAuthChanged(tx, created.serial);
      return created;
    });
    return { device, credentials: issuedFrom(prepared) };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new ProvisioningError("serial_taken", `A device with serial ${input.serial} is already registered`);
    }
    throw error;
  }
}
