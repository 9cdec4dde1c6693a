"use client";
import { createChunkStreamAction } from "@/actions/streams";
import { DialogButton, DialogForm, DialogOutcome } from "@/components/ui/dialog";
import { Field, FormMessage, TextAreaField, useActionForm } from "@/components/ui/form";
import { ZStreamFormSchema } from "@/lib/stream-forms";

export function NewStreamButton({ project }: { project: string }) {
  return (
    <DialogButton labelledBy="new-stream-title" form={(close) => <NewStreamForm project={project} onClose={close} />}>
      + New stream
    </DialogButton>
  );
}

function NewStreamForm({ project, onClose }: { project: string; onClose: () => void }) {
  const form = useActionForm(createChunkStreamAction, ZStreamFormSchema);
  const { state, errors } = form;
  if (state?.ok) {
    return (
      <DialogOutcome titleId="new-stream-title" title="Stream created" onClose={onClose}>
        <FormMessage state={state} />
      </DialogOutcome>
    );
  }
  return (
    <DialogForm
      form={form}
      titleId="new-stream-title"
      title="New chunk stream"
      submit="Create stream"
      submitting="Creating…"
      onClose={onClose}
    >
      <input type="hidden" name="project" value={project} />
      <Field
        label="Name"
        name="name"
        error={errors.name}
        hint="The topic level: devices publish to P/fleet/{device}/chunks/{name}"
        placeholder="crash"
        autoComplete="off"
      />
      <Field
        label="URL"
        name="url_template"
        error={errors.url_template}
        hint="{device_id} and {stream} are filled in"
        placeholder="https://crash.example.com/api/devices/{device_id}/chunks"
        autoComplete="off"
      />
      <TextAreaField
        label="Headers"
        name="headers"
        rows={3}
        placeholder={"Authorization: Bearer …\nX-Device: {device_id}"}
        error={errors.headers}
        hint="One per line, Name: value. Values are not shown again (they may hold keys)."
      />
      <Field
        label="Attempts before parking"
        name="max_attempts"
        type="number"
        min={1}
        max={1000}
        defaultValue={10}
        error={errors.max_attempts}
      />
      <Field
        label="Timeout per attempt (ms)"
        name="timeout_ms"
        type="number"
        min={100}
        max={300000}
        defaultValue={10000}
        error={errors.timeout_ms}
      />
    </DialogForm>
  );
}
