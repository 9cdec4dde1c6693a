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
    /** "": the project's sessions; otherwise a per-device named store, whose objects the rule expires. */
    store: z
      .string()
      .trim()
      .max(63)
      .regex(/^([a-z][a-z0-9_-]*)?$/, { error: "Choose a store" })
      .default(""),
  })
  .superRefine((form, ctx) => {
    const { min, max } = LIMITS[form.kind];
    if (form.value < min || form.value > max) ctx.addIssue({ code: "custom", path: ["value"], message: `Between ${min} and ${max}` });
    if (form.store !== "" && form.kind !== "older_than_days") {
      ctx.addIssue({ code: "custom", path: ["kind"], message: "A store keeps no sessions: choose “older than N days” for a store" });
    }
  });

export type TRetentionRuleForm = z.infer<typeof ZRetentionRuleFormSchema>;

/** A rule as people say it, with the store it applies to. */
export function retentionRuleLabel(rule: { kind: TRetentionKind; value: number; store: string }): string {
  if (rule.store !== "") return `Delete objects of the ${rule.store} store older than ${rule.value} days`;
  return RETENTION_KINDS[rule.kind].label.replace("N", String(rule.value));
}
