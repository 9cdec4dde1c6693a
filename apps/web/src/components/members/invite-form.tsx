"use client";
import { useState } from "react";
import { ZMemberInviteSchema } from "@/lib/forms";
import { inviteMemberAction } from "@/actions/members";
import { Field, FormMessage, OneTimeSecret, SelectField, useActionForm } from "@/components/ui/form";
import { ROLE_DESCRIPTION, ROLE_LABEL, ROLES, type TRole } from "@/lib/roles";

export function InviteForm({ project, canCreateAccounts }: { project: string; canCreateAccounts: boolean }) {
  const { state, pending, onSubmit, errors, formRef } = useActionForm(inviteMemberAction, ZMemberInviteSchema, { resetOnSuccess: true });
  // Options carry the short role names (a select cuts long ones off); what the chosen role may do is the hint below.
  const [role, setRole] = useState<TRole>("viewer");
  return (
    <form ref={formRef} onSubmit={onSubmit} onReset={() => setRole("viewer")} noValidate aria-labelledby="invite-title">
      <h2 id="invite-title" style={{ marginBottom: 12 }}>
        Invite a member
      </h2>
      <FormMessage state={state} />
      {state?.ok && state.data?.password ? (
        <OneTimeSecret label={`First password for ${state.data.email}`} value={state.data.password} />
      ) : null}
      <input type="hidden" name="project" value={project} />
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="off"
        error={errors.email}
        hint={
          canCreateAccounts
            ? "If there is no account yet, one is created and you get its first password."
            : "The person needs an account; a platform administrator creates accounts."
        }
      />
      {canCreateAccounts ? <Field label="Name (for a new account)" name="name" autoComplete="off" error={errors.name} /> : null}
      <SelectField
        label="Role"
        name="role"
        defaultValue="viewer"
        error={errors.role}
        hint={ROLE_DESCRIPTION[role]}
        onChange={(value) => setRole(value as TRole)}
        options={ROLES.map((r) => ({ value: r, label: ROLE_LABEL[r] }))}
      />
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Inviting…" : "Invite"}
      </button>
    </form>
  );
}
