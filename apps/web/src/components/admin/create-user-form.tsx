"use client";
import { ZUserCreateSchema } from "@/lib/forms";
import { createUserAction } from "@/actions/admin";
import { Field, FormMessage, OneTimeSecret, useActionForm } from "@/components/ui/form";

export function CreateUserForm() {
  const { state, pending, onSubmit, errors, formRef } = useActionForm(createUserAction, ZUserCreateSchema, { resetOnSuccess: true });
  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-labelledby="create-user-title">
      <h2 id="create-user-title" style={{ marginBottom: 12 }}>
        New user
      </h2>
      <FormMessage state={state} />
      {state?.ok && state.data ? <OneTimeSecret label={`First password for ${state.data.email}`} value={state.data.password} /> : null}
      <Field label="Email" name="email" type="email" autoComplete="off" error={errors.email} />
      <Field label="Name" name="name" autoComplete="off" error={errors.name} />
      <div className="field checkbox">
        <input id="field-isAdmin" type="checkbox" name="isAdmin" />
        <label htmlFor="field-isAdmin">Platform administrator (creates projects and users)</label>
      </div>
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Creating…" : "Create user"}
      </button>
    </form>
  );
}
