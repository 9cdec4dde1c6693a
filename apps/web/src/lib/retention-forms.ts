/** The retention rule form (docs/retention.md), shared by the browser and the server actions. */
import { z } from "zod";

export const RETENTION_KINDS = {
  older_than_days: { label: "Delete sessions older than N days", unit: "days" },
  keep_last_sessions: { label: "Keep only the last N sessions per device", unit: "sessions" },
} as const;

export type TRetentionKind = keyof typeof RETENTION_KINDS;

const LIMITS: Record<TRetentionKind, { min: number; max: number }> = {
  older_than_days: { min: 1, max: 36_500 },
  keep_last_sessions: { min: 1, max: 100_000 },
};

export const ZRetentionRuleFormSchema = z
  .object({
    kind: z.enum(["older_than_days", "keep_last_sessions"], { error: "Choose a kind of rule" }),
    value: z.coerce.number({ error: "Enter a number" }).int({ error: "Enter a whole number" }),
  })
  .superRefine((form, ctx) => {
    const { min, max } = LIMITS[form.kind];
    if (form.value < min || form.value > max) ctx.addIssue({ code: "custom", path: ["value"], message: `Between ${min} and ${max}` });
  });

export type TRetentionRuleForm = z.infer<typeof ZRetentionRuleFormSchema>;
