/**
 * docs/protocol.md#sessions: sessions opened and closed by the device itself:
 * `P/fleet/D/session/open` and `P/fleet/D/session/close` → `P/fleet/D/session/response`.
 */
import { z } from "zod";
import { ERROR_CATALOG, type TErrorCode } from "../errors";
import { ZRequestIdSchema, ZResponseEnvelopeSchema } from "./common";
import { ZSessionIdSchema } from "./upload";

export const MAX_SESSION_NAME_LENGTH = 200;

export const ZSessionNameSchema = z
  .string({ error: ERROR_CATALOG.invalid_name.message })
  .trim()
  .min(1, { error: ERROR_CATALOG.invalid_name.message })
  .max(MAX_SESSION_NAME_LENGTH, { error: ERROR_CATALOG.invalid_name.message });

/** Metadata is a label for people (site, mission, operator), stored with every session: kept small. */
export const MAX_SESSION_METADATA_BYTES = 8 * 1024;

const UTF8 = new TextEncoder();

/** Bytes of the metadata as compact UTF-8 JSON. */
export function sessionMetadataBytes(value: Record<string, unknown>): number {
  return UTF8.encode(JSON.stringify(value)).byteLength;
}

export const ZSessionMetadataSchema = z
  .record(z.string(), z.unknown(), { error: ERROR_CATALOG.invalid_metadata.message })
  .refine((value) => sessionMetadataBytes(value) <= MAX_SESSION_METADATA_BYTES, {
    error: ERROR_CATALOG.metadata_too_large.message,
    params: { code: "metadata_too_large" },
  });

export const ZSessionOpenSchema = z.object({
  name: ZSessionNameSchema.nullish(),
  metadata: ZSessionMetadataSchema.nullish(),
  request_id: ZRequestIdSchema.nullish(),
});

export type TSessionOpen = z.infer<typeof ZSessionOpenSchema>;

export const SESSION_OPEN_FIELD_CODES: Partial<Record<keyof TSessionOpen, TErrorCode>> = {
  name: "invalid_name",
  metadata: "invalid_metadata",
  request_id: "invalid_request_id",
};

export const ZSessionCloseSchema = z.object({
  session_id: ZSessionIdSchema,
  request_id: ZRequestIdSchema.nullish(),
});

export type TSessionClose = z.infer<typeof ZSessionCloseSchema>;

export const SESSION_CLOSE_FIELD_CODES: Partial<Record<keyof TSessionClose, TErrorCode>> = {
  session_id: "invalid_session_id",
  request_id: "invalid_request_id",
};

export const SESSION_STATES = ["open", "closed"] as const;
export type TSessionState = (typeof SESSION_STATES)[number];

export const ZSessionResponseSchema = ZResponseEnvelopeSchema.extend({
  success: z.literal(true),
  session_id: z.number().int().positive(),
  name: z.string(),
  state: z.enum(SESSION_STATES),
  started_at: z.string(),
  ended_at: z.string().nullable(),
});

export type TSessionResponse = z.infer<typeof ZSessionResponseSchema>;
