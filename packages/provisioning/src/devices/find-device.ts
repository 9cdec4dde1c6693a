import { ProvisioningError, type TProvisioningContext } from "../context";

/** A device by serial, optionally only within a project (a dashboard acts within one). */
export async function findDeviceOrThrow(ctx: TProvisioningContext, input: { serial: string; projectId?: string }) {
  const device = await ctx.prisma.device.findUnique({
    where: { serial: input.serial },
    select: { id: true, serial: true, name: true, projectId: true, authMode: true, enabled: true },
  });
  if (!device || (input.projectId && device.projectId !== input.projectId)) {
    throw new ProvisioningError("device_not_found", `No device ${input.serial}${input.projectId ? " in this project" : ""}`);
  }
  return device;
}
