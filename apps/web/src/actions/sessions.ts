"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { ZSessionCreateSchema, ZSessionRenameSchema } from "@/lib/forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { createSession } from "@/server/sessions/create-session";
import { deleteSession } from "@/server/sessions/delete-session";
import { renameSession } from "@/server/sessions/rename-session";
import { requestCapture } from "@/server/sessions/request-capture";
import { setSessionKeep } from "@/server/sessions/set-session-keep";
import { setSessionState } from "@/server/sessions/set-session-state";

const sessionId = z.coerce.number().int().positive();

export const createSessionAction = projectAction({ role: CAN.manageSessions, schema: ZSessionCreateSchema }, async ({ ctx, input }) => {
  const session = await createSession({ ctx, deviceSerial: input.device, name: input.name });
  redirect(`/p/${ctx.project.slug}/sessions/${session.id}`);
});

export const renameSessionAction = projectAction(
  { role: CAN.manageSessions, schema: ZSessionRenameSchema.extend({ sessionId }) },
  async ({ ctx, input }) => {
    await renameSession({ ctx, sessionId: input.sessionId, name: input.name });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    return { ok: true, message: "Renamed" };
  },
);

export const setSessionStateAction = projectAction(
  { role: CAN.manageSessions, schema: z.object({ sessionId, state: z.enum(["open", "closed"]) }) },
  async ({ ctx, input }) => {
    await setSessionState({ ctx, sessionId: input.sessionId, state: input.state });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    return { ok: true, message: input.state === "closed" ? "Session closed" : "Session reopened" };
  },
);

export const setSessionKeepAction = projectAction(
  { role: CAN.manageSessions, schema: z.object({ sessionId, keep: z.enum(["true", "false"]).transform((value) => value === "true") }) },
  async ({ ctx, input }) => {
    await setSessionKeep({ ctx, sessionId: input.sessionId, keep: input.keep });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    return {
      ok: true,
      message: input.keep ? "Marked keep: retention rules never delete it" : "No longer kept: retention rules apply to it",
    };
  },
);

export const deleteSessionAction = projectAction({ role: CAN.manageSessions, schema: z.object({ sessionId }) }, async ({ ctx, input }) => {
  await deleteSession({ ctx, sessionId: input.sessionId });
  revalidatePath(`/p/${ctx.project.slug}`, "layout");
  redirect(`/p/${ctx.project.slug}/sessions`);
});

export const requestCaptureAction = projectAction({ role: CAN.capture, schema: z.object({ sessionId }) }, async ({ ctx, input }) => {
  const { requestId, presence } = await requestCapture({ ctx, sessionId: input.sessionId });
  return {
    ok: true,
    message: "Capture requested: the file appears below as soon as the device uploads it.",
    data: { requestId, presence: presence.state },
  };
});
