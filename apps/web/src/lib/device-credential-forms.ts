/** Form schemas of device provisioning, shared by the dialogs (browser) and the server actions. */
import { z } from "zod";
import { ZDeviceCreateSchema, ZDeviceSerialSchema } from "@/lib/forms";

export const ZAuthModeSchema = z.enum(["password", "certificate"], { error: "Choose password or certificate" });

export const ZDeviceProvisionSchema = ZDeviceCreateSchema.extend({ auth: ZAuthModeSchema.default("password") });

/** 256 KiB of CSV is thousands of serials; the server also caps the number of rows. */
export const MAX_CSV_CHARS = 256 * 1024;

export const ZDeviceBulkSchema = z.object({
  csv: z
    .string()
    .trim()
    .min(1, { error: "Choose a CSV file, or paste one serial per line" })
    .max(MAX_CSV_CHARS, { error: "The CSV is larger than 256 KiB: split the batch" }),
  auth: ZAuthModeSchema.default("password"),
});

export const ZDeviceRotateSchema = z.object({
  serial: ZDeviceSerialSchema,
  /** "keep": the device's current mode. */
  auth: z.enum(["keep", "password", "certificate"]).default("keep"),
  graceHours: z.coerce
    .number({ error: "Enter a number of hours" })
    .min(0, { error: "The grace period cannot be negative" })
    .max(24 * 90, { error: "At most 90 days (2160 hours)" })
    .default(0),
});

export const ZDeviceRevokeSchema = z.object({ serial: ZDeviceSerialSchema });
