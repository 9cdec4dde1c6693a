"use server";
import { formatCount } from "@/lib/format";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { CAN } from "@/lib/roles";
import { ZStreamFormSchema } from "@/lib/stream-forms";
import { projectAction } from "@/server/auth/action-client";
import { createChunkStream, resolveParkedChunks, setChunkStreamEnabled } from "@/server/streams/manage-chunk-streams";

export const createChunkStreamAction = projectAction({ role: CAN.manageDevices, schema: ZStreamFormSchema }, async ({ ctx, input }) => {
  await createChunkStream({ ctx, config: input });
  revalidatePath(`/p/${ctx.project.slug}/streams`);
  return { ok: true, message: `Stream ${input.name} created: devices publish to …/chunks/${input.name}` };
});

const streamTarget = { streamId: z.string().uuid({ error: "Choose a stream" }) };

export const setChunkStreamEnabledAction = projectAction(
  {
    role: CAN.manageDevices,
    schema: z.object({ ...streamTarget, enabled: z.enum(["true", "false"]).transform((value) => value === "true") }),
  },
  async ({ ctx, input }) => {
    await setChunkStreamEnabled({ ctx, streamId: input.streamId, enabled: input.enabled });
    revalidatePath(`/p/${ctx.project.slug}/streams`);
    return { ok: true, message: input.enabled ? "Stream enabled" : "Stream disabled: devices' chunks are refused (404 stream_not_found)" };
  },
);

export const resolveParkedChunksAction = projectAction(
  { role: CAN.manageDevices, schema: z.object({ ...streamTarget, action: z.enum(["retry", "discard"]) }) },
  async ({ ctx, input }) => {
    const count = await resolveParkedChunks({ ctx, streamId: input.streamId, action: input.action });
    revalidatePath(`/p/${ctx.project.slug}/streams`);
    return {
      ok: true,
      message: `${formatCount(count, "parked chunk")} ${input.action === "retry" ? "sent back for delivery" : "discarded"}`,
    };
  },
);
