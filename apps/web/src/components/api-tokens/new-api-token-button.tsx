"use client";
import { useState } from "react";
import { createApiTokenAction } from "@/actions/api-tokens";
import { Dialog, DialogOutcome } from "@/components/ui/dialog";
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
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState(0);
  return (
    <>
      <button
        className="btn btn-primary"
        type="button"
        onClick={() => {
          setKey((k) => k + 1);
          setOpen(true);
        }}
      >
        + New token
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} labelledBy="new-token-title">
        <NewApiTokenForm key={key} project={project} onClose={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function NewApiTokenForm({ project, onClose }: { project: string; onClose: () => void }) {
  const { state, pending, onSubmit, errors } = useActionForm(createApiTokenAction, ZApiTokenCreateSchema);
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
    <form onSubmit={onSubmit} noValidate>
      <div className="dialog-body">
        <h2 id="new-token-title">New API token</h2>
        <FormMessage state={state} />
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
      </div>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={pending}>
          {pending ? "Creating…" : "Create token"}
        </button>
      </div>
    </form>
  );
}
