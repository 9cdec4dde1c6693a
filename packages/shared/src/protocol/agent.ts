/**
 * docs/protocol.md#agentstatus: what a device's agent (`fleetdrop-device agent`) reports about its
 * upload queue, `P/fleet/D/agent/status` → `P/fleet/D/agent/response`. Each report replaces the
 * previous one; the dashboard shows it on the device's page and in the devices list.
 */
import { z } from "zod";
import { ERROR_CATALOG, type TErrorCode } from "../errors";
import { ZRequestIdSchema, ZResponseEnvelopeSchema, ZTimestampSchema } from "./common";

/** A last error is a line for people: longer text is refused rather than cut. */
export const MAX_AGENT_ERROR_LENGTH = 1000;

const invalid = { error: ERROR_CATALOG.invalid_payload.message };

/** An instant PostgreSQL can store: ISO-8601 UTC with milliseconds that names a real date (no 30 February). */
const ZInstantSchema = ZTimestampSchema.refine((value) => {
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.toISOString() === value;
}, invalid);

export const ZAgentStatusSchema = z.object({
  /** Files found ready and not yet confirmed by the platform. */
  backlog_files: z
    .number(invalid)
    .int(invalid)
    .min(0, invalid)
    .max(2 ** 31 - 1, invalid),
  /** Their bytes. */
  backlog_bytes: z.number(invalid).int(invalid).min(0, invalid).max(Number.MAX_SAFE_INTEGER, invalid),
  /** When the oldest of them became ready (device clock, ISO-8601 UTC); null when nothing waits. */
  oldest_waiting_at: ZInstantSchema.nullish(),
  /** The last thing that went wrong, as the agent logged it; null when nothing has. */
  last_error: z.string(invalid).min(1, invalid).max(MAX_AGENT_ERROR_LENGTH, invalid).nullish(),
  last_error_at: ZInstantSchema.nullish(),
  request_id: ZRequestIdSchema.nullish(),
});

export type TAgentStatus = z.infer<typeof ZAgentStatusSchema>;

export const AGENT_STATUS_FIELD_CODES: Partial<Record<keyof TAgentStatus, TErrorCode>> = {
  request_id: "invalid_request_id",
};

export const ZAgentStatusResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  /** When the platform stored the report (its clock). */
  received_at: z.string(),
});

export type TAgentStatusResponse = z.infer<typeof ZAgentStatusResponseSchema>;
