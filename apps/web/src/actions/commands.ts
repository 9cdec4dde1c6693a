"use server";
import { formatCount } from "@/lib/format";
import { revalidatePath } from "next/cache";
import { ZSendCommandsSchema } from "@/lib/commands-form";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { sendCommands } from "@/server/commands/send-commands";

export const sendCommandsAction = projectAction({ role: CAN.manageDevices, schema: ZSendCommandsSchema }, async ({ ctx, input }) => {
  const result = await sendCommands({ ctx, serial: input.serial, service: input.service, commands: input.commands });
  revalidatePath(`/p/${ctx.project.slug}/devices/${encodeURIComponent(input.serial)}/commands`);
  return {
    ok: true,
    message: result.notified
      ? `Sent ${formatCount(input.commands.length, "command")} to ${input.serial} (${result.objectKey}). ` +
        `Its report appears below when it has run them.`
      : `Saved ${result.objectKey}, ` +
        `but the device could not be notified (broker unavailable): it runs the commands when it next fetches them.`,
  };
});
