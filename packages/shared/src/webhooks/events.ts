/**
 * docs/api.md#webhooks: the events a project's webhook endpoints can ask for, and the endpoint form.
 * Browser-safe (the dashboard's events picker reads the catalogue).
 */
import { z } from "zod";

export const WEBHOOK_EVENTS = {
  "file.uploaded": "A session file is stored (any upload path: HTTPS form, MQTT transfer, found by the sweeper)",
  "upload.failed": "An upload form expired unused, or a file was marked failed",
  "session.opened": "A recording session was opened (by a device or in the dashboard)",
  "session.closed": "A recording session was closed",
  "command.completed": "A device reported the result of a command list (its status report)",
  "device.online": "A device connected to the broker",
  "device.offline": "A device disconnected from the broker",
} as const;

export type TWebhookEventType = keyof typeof WEBHOOK_EVENTS;
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as TWebhookEventType[];

/** Sent by the dashboard's "Send test event" to one endpoint, whatever it subscribed to. */
export const WEBHOOK_TEST_EVENT = "webhook.test";

export const MAX_WEBHOOK_URL_LENGTH = 2000;
export const MAX_WEBHOOK_ENDPOINTS_PER_PROJECT = 20;

export const ZWebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES as [TWebhookEventType, ...TWebhookEventType[]], {
  error: "Unknown event type",
});

/** An endpoint as an admin enters it (the address policy is checked separately: see ./address). */
export const ZWebhookEndpointFormSchema = z.object({
  url: z
    .string()
    .trim()
    .min(1, { error: "Enter the endpoint's URL" })
    .max(MAX_WEBHOOK_URL_LENGTH, { error: `At most ${MAX_WEBHOOK_URL_LENGTH} characters` })
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === "https:" || url.protocol === "http:") && url.username === "" && url.password === "";
        } catch {
          return false;
        }
      },
      { error: "Enter an http:// or https:// URL without user name or password" },
    ),
  description: z.string().trim().max(200, { error: "At most 200 characters" }).default(""),
  events: z.array(ZWebhookEventTypeSchema).min(1, { error: "Choose at least one event" }),
});

export type TWebhookEndpointForm = z.infer<typeof ZWebhookEndpointFormSchema>;

/** The JSON body of every delivery. */
export type TWebhookPayload = {
  id: string;
  type: TWebhookEventType | typeof WEBHOOK_TEST_EVENT;
  created_at: string;
  project: { id: string; slug: string };
  device: { serial: string } | null;
  data: Record<string, unknown>;
};
