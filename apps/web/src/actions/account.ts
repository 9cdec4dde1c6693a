"use server";
import { ZPasswordChangeSchema } from "@/lib/forms";
import { userAction } from "@/server/auth/action-client";
import { changePassword } from "@/server/users/change-password";

export const changePasswordAction = userAction({ schema: ZPasswordChangeSchema }, async ({ user, ip, input }) => {
  await changePassword({ user, ip, currentPassword: input.currentPassword, newPassword: input.newPassword });
  return { ok: true, message: "Password changed. Other browsers signed in as you are signed out.", data: { email: user.email } };
});
