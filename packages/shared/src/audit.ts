/**
 * The `details` of each audit action (`audit_log.details`, JSON): one schema per action, shared
 * by everything that writes entries (the worker for devices, the web app for people, the seed)
 * and everything that reads them back (the dashboard's audit log, store fetches, command runs,
 * capture status). Writers are type-checked against the input side; readers parse, and rows
 * that do not parse (written by an older version, or by hand) are shown from their raw JSON.
 *
 * What must stay true: a field may be added (optional) or a new action added here; renaming or
 * retyping a field makes older rows fall back to the raw view, so readers that depend on a field
 * keep a fallback for it.
 */
import { z } from "zod";
import { ZCommandSchema } from "./protocol/commands";

/** An action that records no details (the row's `details` is SQL NULL). */
const ZNoDetails = z.null().optional();
/** `store`: the named store a rule applies to; absent for the rules on sessions. */
const ZRetentionRule = z.object({
  kind: z.enum(["older_than_days", "keep_last_sessions"]),
  value: z.number().int(),
  store: z.string().optional(),
});
const ZWebhookTarget = z.object({ url: z.string(), events: z.array(z.string()) });

const ZStoreObjectDetails = z.object({ store: z.string(), path: z.string() });

/** A file's size as PostgreSQL bigint text (`"1048576"`), null while unknown. */
const ZBigIntText = z.string().regex(/^\d+$/);

const ZFileRead = z.object({ session: z.number().int(), filename: z.string(), size: ZBigIntText.nullable() });

const ZStreamName = z.object({ name: z.string() });

const ZParkedChunks = z.object({ name: z.string(), chunks: z.number().int() });

const ZPresence = z.enum(["online", "offline"]);

export const AUDIT_DETAILS = {
  // Devices (written by the worker; the actor is the device serial).
  "session.open": z.object({ name: z.string() }).nullish(),
  "session.close": ZNoDetails,
  "store.upload": ZStoreObjectDetails.extend({
    key: z.string(),
    size: z.number().int().nonnegative(),
    etag: z.string(),
    contentType: z.string().optional(),
  }),
  "store.download": ZStoreObjectDetails.extend({
    key: z.string(),
    size: z.number().int().nonnegative(),
    etag: z.string(),
    requestId: z.string().optional(),
  }),
  /** The report of `status/{D}/{service}/last_monitoring_status.json`, or why it could not be read. */
  "device.status_report": z.union([
    z.object({ service: z.string(), etag: z.string(), report: z.unknown() }).refine((d) => "report" in d, "report is missing"),
    z.object({ service: z.string(), etag: z.string(), error: z.string() }),
  ]),
  "file.object_replaced": z.object({
    object_key: z.string(),
    recorded: z.object({ etag: z.string().nullable(), size: z.number().nullable() }),
    found: z.object({ etag: z.string(), size: z.number() }),
    via: z.enum(["device", "storage", "sweeper"]),
  }),

  // People (written by the web app; the actor is the user's email).
  "project.create": z.object({ slug: z.string() }),
  "project.seed": z.object({ device: z.string(), session: z.number().int() }),
  "user.create": z.object({ email: z.string(), isAdmin: z.boolean().optional() }),
  "user.enable": ZNoDetails,
  "user.disable": ZNoDetails,
  "user.password_change": ZNoDetails,
  "user.password_reset": ZNoDetails,
  "member.add": z.object({ email: z.string(), role: z.string() }),
  "member.role": z.object({ email: z.string(), from: z.string(), to: z.string() }),
  "member.remove": z.object({ email: z.string(), role: z.string() }),
  "device.create": z.object({ name: z.string(), authMode: z.string() }),
  "device.bulk_create": z.object({ count: z.number().int(), serials: z.array(z.string()) }),
  "device.rotate_credentials": z.object({ authMode: z.string(), graceHours: z.number() }),
  "device.revoke": z.object({ revokedCertificates: z.number().int() }),
  "device.enable": ZNoDetails,
  "device.disable": ZNoDetails,
  "device.delete": z.object({ name: z.string(), sessions: z.number().int(), files: z.number().int(), objectsNotDeleted: z.number().int() }),
  "device.commands": z.object({
    service: z.string(),
    requestId: z.string(),
    commands: z.array(ZCommandSchema),
    objectKey: z.string(),
    notified: z.boolean(),
  }),
  "session.create": z.object({ device: z.string(), name: z.string() }),
  "session.rename": z.object({ from: z.string(), to: z.string() }),
  "api_token.create": z.object({
    name: z.string(),
    prefix: z.string(),
    scope: z.enum(["read", "write"]),
    expiresAt: z.string().nullable(),
  }),
  "api_token.revoke": z.object({ name: z.string(), prefix: z.string() }),
  "session.delete": z.object({ name: z.string(), device: z.string(), files: z.number().int(), objectsNotDeleted: z.number().int() }),
  "session.download": z.object({ name: z.string(), files: z.number().int(), bytes: ZBigIntText }),
  /** A capture request: the dashboard follows it by `requestId` (see get-capture-status). */
  "session.capture": z.object({
    device: z.string(),
    requestId: z.string(),
    sessionId: z.number().int(),
    presence: ZPresence,
    presenceSource: z.enum(["presence", "last_seen"]),
  }),
  "file.view": ZFileRead,
  "file.download": ZFileRead,
  "store.put": ZStoreObjectDetails.extend({ device: z.string().nullable(), size: z.number().int(), etag: z.string() }),
  "store.get": ZStoreObjectDetails.extend({ device: z.string().nullable() }),
  "store.delete": ZStoreObjectDetails.extend({ device: z.string().nullable() }),
  "stream.create": z.object({ name: z.string(), url: z.string(), headers: z.array(z.string()) }),
  "stream.enable": ZStreamName,
  "stream.disable": ZStreamName,
  "stream.parked_retry": ZParkedChunks,
  "stream.parked_discard": ZParkedChunks,
  "session.keep": ZNoDetails,
  "session.unkeep": ZNoDetails,
  "retention.save": ZRetentionRule,
  "retention.pause": ZNoDetails,
  "retention.resume": ZNoDetails,
  "retention.delete_rule": ZRetentionRule,
  /** A session a retention rule deleted (written by the worker's retention run). */
  "retention.delete": z.object({
    name: z.string(),
    device: z.string().nullable(),
    started_at: z.string(),
    files: z.number().int(),
    bytes: z.number(),
    rule: z.string().nullable(),
  }),
  /** A batch of a named store's objects a retention rule deleted (written by the worker's retention run). */
  "retention.delete_objects": z.object({
    store: z.string(),
    rule: z.string(),
    objects: z.array(z.object({ device: z.string(), path: z.string(), size: z.number().int() })),
    bytes: z.number(),
  }),
  "webhook.create": ZWebhookTarget,
  "webhook.update": ZWebhookTarget,
  "webhook.enable": ZNoDetails,
  "webhook.disable": ZNoDetails,
  "webhook.delete": z.object({ url: z.string() }),
  "webhook.roll_secret": ZNoDetails,
  "webhook.test": ZNoDetails,
  "webhook.redeliver": z.object({ event: z.string() }),
} satisfies Record<string, z.ZodType>;

type TDetailsSchemas = typeof AUDIT_DETAILS;

export type TAuditAction = keyof TDetailsSchemas;

/** The details an action's entry holds, as read back. */
export type TAuditDetails<A extends TAuditAction> = z.output<TDetailsSchemas[A]>;

/**
 * What a writer passes: the action and its details, checked per action (`details` may be left
 * out only where the action records none).
 */
export type TAuditEvent = {
  [A in TAuditAction]: undefined extends z.input<TDetailsSchemas[A]>
    ? { action: A; details?: z.input<TDetailsSchemas[A]> }
    : { action: A; details: z.input<TDetailsSchemas[A]> };
}[TAuditAction];

/** A row read back: its action is known and its details match that action's schema. */
export type TParsedAuditEvent = { [A in TAuditAction]: { action: A; details: TAuditDetails<A> } }[TAuditAction];

export function isAuditAction(action: string): action is TAuditAction {
  return Object.hasOwn(AUDIT_DETAILS, action);
}

/**
 * Reads a stored entry's details by its action. Null for an action this version does not know
 * or details that do not match its schema (older rows): callers show the raw JSON instead.
 */
export function parseAuditEvent(action: string, details: unknown): TParsedAuditEvent | null {
  if (!isAuditAction(action)) return null;
  const parsed = AUDIT_DETAILS[action].safeParse(details ?? undefined);
  return parsed.success ? ({ action, details: parsed.data } as TParsedAuditEvent) : null;
}

/** The details of one action, or null when the stored JSON does not match (see parseAuditEvent). */
export function parseAuditDetails<A extends TAuditAction>(action: A, details: unknown): TAuditDetails<A> | null {
  const parsed = AUDIT_DETAILS[action].safeParse(details ?? undefined);
  return parsed.success ? (parsed.data as TAuditDetails<A>) : null;
}
