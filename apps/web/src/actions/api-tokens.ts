"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { ZApiTokenCreateSchema } from "@/lib/api-token-forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { createApiToken, revokeApiToken } from "@/server/api-tokens/manage-api-tokens";

/** Answers the token itself once, for the dialog to show; it is not stored anywhere. */
export const createApiTokenAction = projectAction({ role: CAN.manageApiTokens, schema: ZApiTokenCreateSchema }, async ({ ctx, input }) => {
  const created = await createApiToken({ ctx, input });
  revalidatePath(`/p/${ctx.project.slug}/api-tokens`);
  return { ok: true, message: `Token ${input.name} created`, data: { token: created.token } };
});

export const revokeApiTokenAction = projectAction(
  { role: CAN.manageApiTokens, schema: z.object({ tokenId: z.uuid({ error: "Choose a token" }) }) },
  async ({ ctx, input }) => {
    await revokeApiToken({ ctx, tokenId: input.tokenId });
    revalidatePath(`/p/${ctx.project.slug}/api-tokens`);
    return { ok: true, message: "Token revoked: requests with it are refused from now on" };
  },
);
