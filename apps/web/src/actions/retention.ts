"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { ZRetentionRuleFormSchema } from "@/lib/retention-forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { deleteRetentionRule, previewRetention, saveRetentionRule, setRetentionPaused } from "@/server/retention/retention";

const page = (slug: string) => `/p/${slug}/retention`;
const ruleTarget = { ruleId: z.string().uuid({ error: "Choose a rule" }) };

export const previewRetentionAction = projectAction(
  { role: CAN.manageSessions, schema: ZRetentionRuleFormSchema },
  async ({ ctx, input }) => {
    const preview = await previewRetention({ ctx, rule: input });
    return { ok: true, data: { rule: input, preview } };
  },
);

export const saveRetentionRuleAction = projectAction(
  { role: CAN.manageSessions, schema: ZRetentionRuleFormSchema },
  async ({ ctx, input }) => {
    await saveRetentionRule({ ctx, rule: input });
    revalidatePath(page(ctx.project.slug));
    return { ok: true, message: "Rule saved: the worker applies it in the background, in batches" };
  },
);

export const setRetentionPausedAction = projectAction(
  { role: CAN.manageSessions, schema: z.object({ ...ruleTarget, paused: z.enum(["true", "false"]).transform((v) => v === "true") }) },
  async ({ ctx, input }) => {
    await setRetentionPaused({ ctx, ruleId: input.ruleId, paused: input.paused });
    revalidatePath(page(ctx.project.slug));
    return { ok: true, message: input.paused ? "Paused: no more sessions are deleted after the batch in progress" : "Resumed" };
  },
);

export const deleteRetentionRuleAction = projectAction(
  { role: CAN.manageSessions, schema: z.object(ruleTarget) },
  async ({ ctx, input }) => {
    await deleteRetentionRule({ ctx, ruleId: input.ruleId });
    revalidatePath(page(ctx.project.slug));
    return { ok: true, message: "Rule deleted" };
  },
);
