"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { ZDeviceSerialSchema } from "@/lib/forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { deleteDevice } from "@/server/devices/delete-device";
import { setDeviceEnabled } from "@/server/devices/set-device-enabled";

export const setDeviceEnabledAction = projectAction(
  {
    role: CAN.manageDevices,
    schema: z.object({ serial: ZDeviceSerialSchema, enabled: z.enum(["true", "false"]).transform((v) => v === "true") }),
  },
  async ({ ctx, input }) => {
    await setDeviceEnabled({ ctx, serial: input.serial, enabled: input.enabled });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    return { ok: true, message: input.enabled ? "Device enabled" : "Device disabled" };
  },
);

export const deleteDeviceAction = projectAction(
  { role: CAN.manageDevices, schema: z.object({ serial: ZDeviceSerialSchema }) },
  async ({ ctx, input }) => {
    await deleteDevice({ ctx, serial: input.serial });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    redirect(`/p/${ctx.project.slug}/devices`);
  },
);
