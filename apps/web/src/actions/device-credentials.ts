"use server";
import { formatCount } from "@/lib/format";
import { revalidatePath } from "next/cache";
import { CAN } from "@/lib/roles";
import { ZDeviceBulkSchema, ZDeviceProvisionSchema, ZDeviceRevokeSchema, ZDeviceRotateSchema } from "@/lib/device-credential-forms";
import { projectAction } from "@/server/auth/action-client";
import { bulkCreateDevices } from "@/server/devices/bulk-create-devices";
import { createDevice } from "@/server/devices/create-device";
import { revokeDevice } from "@/server/devices/revoke-device";
import { rotateDeviceCredentials } from "@/server/devices/rotate-device-credentials";

export const provisionDeviceAction = projectAction({ role: CAN.manageDevices, schema: ZDeviceProvisionSchema }, async ({ ctx, input }) => {
  const created = await createDevice({ ctx, serial: input.serial, name: input.name, authMode: input.auth });
  revalidatePath(`/p/${ctx.project.slug}/devices`);
  return { ok: true, message: `Device ${created.serial} registered`, data: created };
});

export const bulkProvisionDevicesAction = projectAction({ role: CAN.manageDevices, schema: ZDeviceBulkSchema }, async ({ ctx, input }) => {
  const created = await bulkCreateDevices({ ctx, csv: input.csv, authMode: input.auth });
  revalidatePath(`/p/${ctx.project.slug}/devices`);
  return { ok: true, message: `${formatCount(created.count, "device")} registered`, data: created };
});

export const rotateDeviceCredentialsAction = projectAction(
  { role: CAN.manageDevices, schema: ZDeviceRotateSchema },
  async ({ ctx, input }) => {
    const rotated = await rotateDeviceCredentials({
      ctx,
      serial: input.serial,
      ...(input.auth === "keep" ? {} : { authMode: input.auth }),
      graceHours: input.graceHours,
    });
    revalidatePath(`/p/${ctx.project.slug}/devices/${encodeURIComponent(input.serial)}`);
    return { ok: true, message: `New ${rotated.authMode} credentials for ${rotated.serial}`, data: rotated };
  },
);

export const revokeDeviceAction = projectAction({ role: CAN.manageDevices, schema: ZDeviceRevokeSchema }, async ({ ctx, input }) => {
  const result = await revokeDevice({ ctx, serial: input.serial });
  revalidatePath(`/p/${ctx.project.slug}`, "layout");
  return {
    ok: true,
    message: result.revokedCertificates
      ? `${input.serial} revoked (${formatCount(result.revokedCertificates, "certificate")} in the revocation list)`
      : `${input.serial} revoked`,
  };
});
