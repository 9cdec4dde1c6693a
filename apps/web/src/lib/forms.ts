/**
 * The dashboard's forms, validated with the same schemas in the browser (field errors as
 * you type/submit) and on the server (the authority). Messages are sentences for people.
 */
import { z } from "zod";
import { DEVICE_ID_PATTERN } from "@fleetdrop/shared/names";

const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 200;

const email = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, { error: "Enter an email address" })
  .max(254, { error: "Email addresses are at most 254 characters" })
  .pipe(z.email({ error: "Enter a valid email address, like name@example.com" }));

const newPassword = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { error: `Use at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(MAX_PASSWORD_LENGTH, { error: `Use at most ${MAX_PASSWORD_LENGTH} characters` });

const personName = z.string().trim().min(1, { error: "Enter a name" }).max(100, { error: "Names are at most 100 characters" });

const ROLE_VALUES = ["viewer", "member", "admin", "owner"] as const;
const role = z.enum(ROLE_VALUES, { error: "Choose a role" });

export const ZSignInSchema = z.object({
  email,
  password: z.string().min(1, { error: "Enter your password" }).max(MAX_PASSWORD_LENGTH),
});
export type TSignIn = z.infer<typeof ZSignInSchema>;

export const ZDeviceSerialSchema = z
  .string()
  .trim()
  .min(1, { error: "Enter the device's serial" })
  .max(64, { error: "A serial is at most 64 characters" })
  .regex(DEVICE_ID_PATTERN, {
    error: "Use letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces or '/')",
  });

const ZDeviceNameSchema = z
  .string()
  .trim()
  .min(1, { error: "Enter a name for the device" })
  .max(100, { error: "Device names are at most 100 characters" });

export const ZDeviceCreateSchema = z.object({ serial: ZDeviceSerialSchema, name: ZDeviceNameSchema });
export type TDeviceCreate = z.infer<typeof ZDeviceCreateSchema>;

const ZSessionNameFormSchema = z
  .string()
  .trim()
  .min(1, { error: "Enter a session name" })
  .max(200, { error: "Session names are at most 200 characters" });

export const ZSessionRenameSchema = z.object({ name: ZSessionNameFormSchema });
export type TSessionRename = z.infer<typeof ZSessionRenameSchema>;

export const ZSessionCreateSchema = z.object({ device: ZDeviceSerialSchema, name: ZSessionNameFormSchema });
export type TSessionCreate = z.infer<typeof ZSessionCreateSchema>;

export const ZMemberInviteSchema = z.object({
  email,
  role,
  /** Only used when the person has no account yet (a platform admin creates it). */
  name: z.string().trim().max(100, { error: "Names are at most 100 characters" }).optional(),
});
export type TMemberInvite = z.infer<typeof ZMemberInviteSchema>;

export const ZMemberRoleSchema = z.object({ userId: z.uuid({ error: "Unknown member" }), role });

export const ZPasswordChangeSchema = z
  .object({
    currentPassword: z.string().min(1, { error: "Enter your current password" }).max(MAX_PASSWORD_LENGTH),
    newPassword,
    confirmPassword: z.string(),
  })
  .refine((value) => value.newPassword === value.confirmPassword, {
    path: ["confirmPassword"],
    error: "The two new passwords differ",
  })
  .refine((value) => value.newPassword !== value.currentPassword, {
    path: ["newPassword"],
    error: "Choose a password different from the current one",
  });
export type TPasswordChange = z.infer<typeof ZPasswordChangeSchema>;

export const ZUserCreateSchema = z.object({
  email,
  name: personName,
  isAdmin: z.boolean().default(false),
});
export type TUserCreate = z.infer<typeof ZUserCreateSchema>;

const PROJECT_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/;

export const ZProjectCreateSchema = z.object({
  slug: z
    .string()
    .trim()
    .toLowerCase()
    .regex(PROJECT_SLUG_PATTERN, { error: "Use 2–40 lower-case letters, digits or '-', not starting or ending with '-'" }),
  name: z.string().trim().min(1, { error: "Enter a project name" }).max(100, { error: "Project names are at most 100 characters" }),
});
export type TProjectCreate = z.infer<typeof ZProjectCreateSchema>;

/** Field errors as forms show them: the first message of each field. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "form";
    out[key] ??= issue.message;
  }
  return out;
}
