/**
 * The "New API token" form, validated the same in the browser and on the server. Safe for
 * client and server.
 */
import { z } from "zod";

export const API_TOKEN_SCOPES = ["read", "write"] as const;
export type TApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

export const API_TOKEN_SCOPE_LABEL: Record<TApiTokenScope, string> = {
  read: "Read: lists, file metadata, download URLs, zips, capture status and command results",
  write: "Read and write: also opens, renames and closes sessions, requests captures and sends commands",
};

/** Days until expiry offered in the form; "never" keeps the token until it is revoked. */
export const API_TOKEN_EXPIRY_DAYS = ["7", "30", "90", "365", "never"] as const;

export const ZApiTokenCreateSchema = z.object({
  name: z.string().trim().min(1, { error: "Enter a name, e.g. the service that will use it" }).max(100, {
    error: "Names are at most 100 characters",
  }),
  scope: z.enum(API_TOKEN_SCOPES, { error: "Choose read, or read and write" }),
  expires: z.enum(API_TOKEN_EXPIRY_DAYS, { error: "Choose when the token expires" }),
});
export type TApiTokenCreate = z.infer<typeof ZApiTokenCreateSchema>;
