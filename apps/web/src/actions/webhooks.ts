"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { CAN } from "@/lib/roles";
import { ZWebhookFormSchema } from "@/lib/webhook-forms";
import { projectAction } from "@/server/auth/action-client";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  redeliverWebhook,
  rollWebhookSecret,
  sendTestEvent,
  setWebhookEnabled,
  updateWebhookEndpoint,
} from "@/server/webhooks/manage-webhooks";

const endpointTarget = { endpointId: z.string().uuid({ error: "Choose an endpoint" }) };
const page = (slug: string) => `/p/${slug}/webhooks`;

export const createWebhookAction = projectAction({ role: CAN.manageDevices, schema: ZWebhookFormSchema }, async ({ ctx, input }) => {
  const created = await createWebhookEndpoint({ ctx, form: input });
  revalidatePath(page(ctx.project.slug));
  return { ok: true, message: "Give the receiver this secret now: it is not shown again.", data: { secret: created.secret } };
});

export const updateWebhookAction = projectAction(
  { role: CAN.manageDevices, schema: z.intersection(z.object(endpointTarget), ZWebhookFormSchema) },
  async ({ ctx, input }) => {
    await updateWebhookEndpoint({ ctx, endpointId: input.endpointId, form: input });
    revalidatePath(page(ctx.project.slug));
    return { ok: true, message: "Endpoint saved" };
  },
);

export const setWebhookEnabledAction = projectAction(
  { role: CAN.manageDevices, schema: z.object({ ...endpointTarget, enabled: z.enum(["true", "false"]).transform((v) => v === "true") }) },
  async ({ ctx, input }) => {
    await setWebhookEnabled({ ctx, endpointId: input.endpointId, enabled: input.enabled });
    revalidatePath(page(ctx.project.slug));
    return { ok: true, message: input.enabled ? "Endpoint enabled" : "Endpoint disabled: no new events are queued for it" };
  },
);

export const deleteWebhookAction = projectAction({ role: CAN.manageDevices, schema: z.object(endpointTarget) }, async ({ ctx, input }) => {
  await deleteWebhookEndpoint({ ctx, endpointId: input.endpointId });
  revalidatePath(page(ctx.project.slug));
  return { ok: true, message: "Endpoint deleted" };
});

export const rollWebhookSecretAction = projectAction(
  { role: CAN.manageDevices, schema: z.object(endpointTarget) },
  async ({ ctx, input }) => {
    const secret = await rollWebhookSecret({ ctx, endpointId: input.endpointId });
    return { ok: true, message: "New secret: deliveries are signed with it from now on", data: { secret } };
  },
);

export const sendTestEventAction = projectAction({ role: CAN.manageDevices, schema: z.object(endpointTarget) }, async ({ ctx, input }) => {
  await sendTestEvent({ ctx, endpointId: input.endpointId });
  revalidatePath(page(ctx.project.slug));
  return { ok: true, message: "Test event queued: it appears in the delivery log" };
});

export const redeliverWebhookAction = projectAction(
  { role: CAN.manageDevices, schema: z.object({ deliveryId: z.string().regex(/^\d{1,18}$/, { error: "Choose a delivery" }) }) },
  async ({ ctx, input }) => {
    await redeliverWebhook({ ctx, deliveryId: input.deliveryId });
    revalidatePath(page(ctx.project.slug));
    return { ok: true, message: "Queued for delivery again" };
  },
);
