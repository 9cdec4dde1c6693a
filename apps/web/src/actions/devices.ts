"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { ZDeviceCreateSchema, ZDeviceSerialSchema } from "@fleetdrop/shared/dashboard/forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { createDevice } from "@/server/devices/create-device";
import { deleteDevice } from "@/server/devices/delete-device";
import { setDeviceEnabled } from "@/server/devices/set-device-enabled";

export const createDeviceAction = projectAction({ role: CAN.manageDevices, schema: ZDeviceCreateSchema }, async ({ ctx, input }) => {
  const created = await createDevice({ ctx, serial: input.serial, name: input.name });
  revalidatePath(`/p/${ctx.project.slug}/devices`);
  return { ok: true, message: `Device ${created.serial} registered`, data: created };
});

export const setDeviceEnabledAction = projectAction(
  { role: CAN.manageDevices, schema: z.object({ serial: ZDeviceSerialSchema, enabled: z.enum(["true", "false"]).transform((v) => v === "true") }) },
  async ({ ctx, input }) => {
    await setDeviceEnabled({ ctx, serial: input.serial, enabled: input.enabled });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    return { ok: true, message: input.enabled ? "Device enabled" : "Device disabled" };
  },
);

export const deleteDeviceAction = projectAction({ role: CAN.manageDevices, schema: z.object({ serial: ZDeviceSerialSchema }) }, async ({ ctx, input }) => {
  await deleteDevice({ ctx, serial: input.serial });
  revalidatePath(`/p/${ctx.project.slug}`, "layout");
  redirect(`/p/${ctx.project.slug}/devices`);
});
