"use client";
import { createApiTokenAction } from "@/actions/api-tokens";
import { DialogButton, DialogForm, DialogOutcome } from "@/components/ui/dialog";
import { Field, FormMessage, OneTimeSecret, SelectField, useActionForm } from "@/components/ui/form";
import { API_TOKEN_SCOPE_LABEL, ZApiTokenCreateSchema } from "@/lib/api-token-forms";

const EXPIRY_OPTIONS = [
  { value: "30", label: "In 30 days" },
  { value: "7", label: "In 7 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
  { value: "never", label: "Never (until revoked)" },
];

export function NewApiTokenButton({ project }: { project: string }) {
  return (
    <DialogButton labelledBy="new-token-title" form={(close) => <NewApiTokenForm project={project} onClose={close} />}>
      + New token
    </DialogButton>
  );
}

function NewApiTokenForm({ project, onClose }: { project: string; onClose: () => void }) {
  const form = useActionForm(createApiTokenAction, ZApiTokenCreateSchema);
  const { state, errors } = form;
  if (state?.ok && state.data) {
    return (
      <DialogOutcome titleId="new-token-title" title="Token created" onClose={onClose}>
        <FormMessage state={state} />
        <OneTimeSecret label="API token" value={state.data.token} />
        <p className="hint">
          Send it as <code>Authorization: Bearer …</code>; the platform keeps only a hash of it.
        </p>
      </DialogOutcome>
    );
  }
  return (
    <DialogForm form={form} titleId="new-token-title" title="New API token" submit="Create token" submitting="Creating…" onClose={onClose}>
      <input type="hidden" name="project" value={project} />
      <Field label="Name" name="name" error={errors.name} hint="What uses it, e.g. billing-backend" autoComplete="off" />
      <SelectField
        label="Scope"
        name="scope"
        error={errors.scope}
        defaultValue="read"
        hint={`${API_TOKEN_SCOPE_LABEL.read}. ${API_TOKEN_SCOPE_LABEL.write}.`}
        options={[
          { value: "read", label: "Read" },
          { value: "write", label: "Read and write" },
        ]}
      />
      <SelectField label="Expires" name="expires" error={errors.expires} defaultValue="30" options={EXPIRY_OPTIONS} />
    </DialogForm>
  );
}
