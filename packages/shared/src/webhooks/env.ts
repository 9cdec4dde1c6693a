/**
 * The webhook setting both the dashboard (when an admin saves an endpoint) and the worker (when
 * it connects) apply: whether endpoints may be on private, loopback or link-local addresses.
 */
import { z } from "zod";
import { envBoolean } from "../env";

export const ZWebhooksEnvSchema = z.object({
  /** Allow webhook URLs on private/loopback addresses (an internal receiver, tests). Off by default: SSRF. */
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: envBoolean.default(false),
});
