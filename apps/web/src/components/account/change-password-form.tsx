"use client";
import { signIn } from "next-auth/react";
import { useEffect, useRef, useState } from "react";
import { ZPasswordChangeSchema } from "@/lib/forms";
import { changePasswordAction } from "@/actions/account";
import { Field, FormMessage, useActionForm } from "@/components/ui/form";

export function ChangePasswordForm() {
  const { state, pending, onSubmit, errors, formRef } = useActionForm(changePasswordAction, ZPasswordChangeSchema);
  const newPassword = useRef("");
  const [done, setDone] = useState<string | null>(null);
  // The change ends every sign-in of the account, this one included: sign in again here.
  useEffect(() => {
    if (state?.ok && state.data) {
      void signIn("credentials", { email: state.data.email, password: newPassword.current, redirect: false }).then(() => {
        formRef.current?.reset();
        setDone(state.message ?? "Password changed");
      });
    }
  }, [state, formRef]);
  return (
    <form
      ref={formRef}
      onSubmit={(e) => {
        setDone(null);
        const typed = new FormData(e.currentTarget).get("newPassword");
        newPassword.current = typeof typed === "string" ? typed : "";
        onSubmit(e);
      }}
      noValidate
      style={{ maxWidth: 420 }}
    >
      <FormMessage state={state && !state.ok ? state : null} />
      {done ? (
        <div className="form-ok" role="status">
          {done}
        </div>
      ) : null}
      <Field
        label="Current password"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        error={errors.currentPassword}
      />
      <Field
        label="New password"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        error={errors.newPassword}
        hint="At least 12 characters. A phrase of several words is easy to remember and hard to guess."
      />
      <Field label="New password again" name="confirmPassword" type="password" autoComplete="new-password" error={errors.confirmPassword} />
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Changing…" : "Change password"}
      </button>
    </form>
  );
}
