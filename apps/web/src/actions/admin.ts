"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { ZProjectCreateSchema, ZUserCreateSchema } from "@/lib/forms";
import { userAction } from "@/server/auth/action-client";
import { createProject } from "@/server/projects/create-project";
import { createUser } from "@/server/users/create-user";
import { resetUserPassword } from "@/server/users/reset-user-password";
import { setUserDisabled } from "@/server/users/set-user-disabled";

export const createProjectAction = userAction({ schema: ZProjectCreateSchema, platformAdmin: true }, async ({ user, ip, input }) => {
  const project = await createProject({ user, ip, slug: input.slug, name: input.name });
  revalidatePath("/", "layout");
  redirect(`/p/${project.slug}/devices`);
});

export const createUserAction = userAction({ schema: ZUserCreateSchema, platformAdmin: true }, async ({ user, ip, input }) => {
  const created = await createUser({ user, ip, email: input.email, name: input.name, isAdmin: input.isAdmin });
  revalidatePath("/admin");
  return { ok: true, message: `Account created for ${input.email}`, data: { email: input.email, password: created.password } };
});

export const setUserDisabledAction = userAction(
  { schema: z.object({ userId: z.uuid(), disabled: z.enum(["true", "false"]).transform((v) => v === "true") }), platformAdmin: true },
  async ({ user, ip, input }) => {
    await setUserDisabled({ user, ip, userId: input.userId, disabled: input.disabled });
    revalidatePath("/admin");
    return { ok: true, message: input.disabled ? "Account disabled" : "Account enabled" };
  },
);

export const resetUserPasswordAction = userAction(
  { schema: z.object({ userId: z.uuid() }), platformAdmin: true },
  async ({ user, ip, input }) => {
    const result = await resetUserPassword({ user, ip, userId: input.userId });
    return { ok: true, message: "New password set", data: { password: result.password } };
  },
);
