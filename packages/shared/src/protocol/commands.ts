/**
 * docs/protocol.md#commands: what the platform asks of a device on `P/fleet/D/commands`, and the files of the
 * command flow: `incoming/{D}/{service}/commands.json` (a JSON array of `{command}`) and the
 * report `status/{D}/{service}/last_monitoring_status.json`.
 */
import { z } from "zod";
import { MAX_REQUEST_ID_LENGTH } from "./common";

export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidServiceName(value: unknown): value is string {
  return typeof value === "string" && SERVICE_NAME_PATTERN.test(value) && value !== "." && value !== "..";
}

/** The store and path (inside the device's folder) of a service's command list. */
export const COMMANDS_STORE = "incoming";
export const STATUS_STORE = "status";
export const COMMANDS_FILE = "commands.json";
export const STATUS_FILE = "last_monitoring_status.json";

export function commandsFilePath(service: string): string {
  if (!isValidServiceName(service)) throw new Error(`invalid service name: ${JSON.stringify(service)}`);
  return `${service}/${COMMANDS_FILE}`;
}

export function statusFilePath(service: string): string {
  if (!isValidServiceName(service)) throw new Error(`invalid service name: ${JSON.stringify(service)}`);
  return `${service}/${STATUS_FILE}`;
}

/** Reads `{service}/last_monitoring_status.json` back into the service name; null otherwise. */
export function serviceOfStatusPath(path: string): string | null {
  const match = /^([^/]+)\/last_monitoring_status\.json$/.exec(path);
  return match && isValidServiceName(match[1]) ? match[1] : null;
}

export const MAX_COMMANDS = 100;
export const MAX_COMMAND_LENGTH = 4096;

export const ZCommandSchema = z.object({
  command: z
    .string({ error: "command must be a string" })
    .trim()
    .min(1, { error: "A command must not be empty" })
    .max(MAX_COMMAND_LENGTH, { error: `A command is at most ${MAX_COMMAND_LENGTH} characters` }),
});

export const ZCommandListSchema = z
  .array(ZCommandSchema, { error: 'The command list must be a JSON array of {"command": "..."}' })
  .min(1, { error: "Add at least one command" })
  .max(MAX_COMMANDS, { error: `At most ${MAX_COMMANDS} commands per list` });

export type TCommandList = z.infer<typeof ZCommandListSchema>;

/** What a device reports after running a list (unknown fields are kept). */
export const ZStatusReportSchema = z.looseObject({
  general_status: z.string().max(200),
  general_error: z
    .string()
    .max(MAX_COMMAND_LENGTH * 4)
    .nullish(),
  commands: z
    .array(
      z.looseObject({
        command: z.string(),
        result: z.string().nullish(),
        status: z.string().max(200),
      }),
    )
    .max(MAX_COMMANDS * 10),
});

export type TStatusReport = z.infer<typeof ZStatusReportSchema>;

const requestId = z.string().min(1).max(MAX_REQUEST_ID_LENGTH);

/** "Fetch and run this service's commands.json". */
export const ZCommandsNoticeSchema = z.looseObject({
  type: z.literal("commands"),
  request_id: requestId,
  service: z.string().regex(SERVICE_NAME_PATTERN),
  store: z.string(),
  path: z.string(),
});

export type TCommandsNotice = z.infer<typeof ZCommandsNoticeSchema>;

/** "Capture now and upload into this session with this request_id". */
export const ZCaptureCommandSchema = z.looseObject({
  type: z.literal("capture"),
  request_id: requestId,
  session_id: z.number().int().positive(),
});

export type TCaptureCommand = z.infer<typeof ZCaptureCommandSchema>;

export const ZDeviceCommandSchema = z.discriminatedUnion("type", [ZCommandsNoticeSchema, ZCaptureCommandSchema]);
export type TDeviceCommand = z.infer<typeof ZDeviceCommandSchema>;

/**
 * Retained on `P/fleet/D/presence` by the device (docs/protocol.md#presence): a birth message
 * `{online: true}` on every connect, repeated at least every PRESENCE_REFRESH_SECONDS, and a Last
 * Will `{online: false}`. The embedded broker publishes the same shape on `P/broker/presence/D`.
 */
export const ZPresenceSchema = z.looseObject({
  online: z.boolean(),
  at: z.string().optional(),
});

/** How often a connected device repeats its birth message. */
export const PRESENCE_REFRESH_SECONDS = 300;
/**
 * An online device not heard of for this long counts as offline: the broker crashed (no Last
 * Will is sent then) or lost its retained messages, and the device did not come back.
 */
export const PRESENCE_EXPIRY_SECONDS = 3 * PRESENCE_REFRESH_SECONDS;

export type TPresence = z.infer<typeof ZPresenceSchema>;
