"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { ZMemberInviteSchema, ZMemberRoleSchema } from "@/lib/forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { changeMemberRole } from "@/server/members/change-member-role";
import { inviteMember } from "@/server/members/invite-member";
import { removeMember } from "@/server/members/remove-member";

export const inviteMemberAction = projectAction({ role: CAN.manageMembers, schema: ZMemberInviteSchema }, async ({ ctx, input }) => {
  const result = await inviteMember({ ctx, email: input.email, role: input.role, name: input.name });
  revalidatePath(`/p/${ctx.project.slug}/members`);
  return {
    ok: true,
    message: result.created ? `Account created for ${input.email} and added as ${input.role}` : `${input.email} added as ${input.role}`,
    data: { email: input.email, password: result.password },
  };
});

export const changeMemberRoleAction = projectAction({ role: CAN.manageMembers, schema: ZMemberRoleSchema }, async ({ ctx, input }) => {
  await changeMemberRole({ ctx, userId: input.userId, role: input.role });
  revalidatePath(`/p/${ctx.project.slug}`, "layout");
  return { ok: true, message: "Role changed" };
});

export const removeMemberAction = projectAction(
  { role: CAN.manageMembers, schema: z.object({ userId: z.uuid() }) },
  async ({ ctx, input }) => {
    await removeMember({ ctx, userId: input.userId });
    revalidatePath(`/p/${ctx.project.slug}`, "layout");
    return { ok: true, message: "Member removed" };
  },
);
