/**
 * The webhook endpoint form (docs/api.md#webhooks), shared by the browser and the server action.
 * Each event is a checkbox `event:<type>` (one field per box, so FormData keeps them all).
 */
import { z } from "zod";
import { WEBHOOK_EVENT_TYPES, ZWebhookEndpointFormSchema, type TWebhookEndpointForm } from "@fleetdrop/shared/webhooks/events";

export const EVENT_FIELD_PREFIX = "event:";

export const ZWebhookFormSchema = z
  .looseObject({ url: z.string().default(""), description: z.string().default("") })
  .transform((form, ctx): TWebhookEndpointForm => {
    const record = form as Record<string, unknown>;
    const events = WEBHOOK_EVENT_TYPES.filter((type) => record[`${EVENT_FIELD_PREFIX}${type}`] === true);
    const parsed = ZWebhookEndpointFormSchema.safeParse({ url: form.url, description: form.description, events });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path.slice(0, 1) });
    return z.NEVER;
  });
