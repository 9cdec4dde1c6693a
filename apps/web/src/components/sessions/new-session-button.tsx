"use client";
import { ZSessionCreateSchema } from "@/lib/forms";
import { createSessionAction } from "@/actions/sessions";
import { DialogButton, DialogForm } from "@/components/ui/dialog";
import { Field, SelectField, useActionForm } from "@/components/ui/form";

type TDevice = { serial: string; name: string };

export function NewSessionButton({ project, devices }: { project: string; devices: TDevice[] }) {
  return (
    <DialogButton labelledBy="new-session-title" form={(close) => <NewSessionForm project={project} devices={devices} onClose={close} />}>
      + New session
    </DialogButton>
  );
}

/** The action opens the new session's page: the form has no answer of its own to show. */
function NewSessionForm({ project, devices, onClose }: { project: string; devices: TDevice[]; onClose: () => void }) {
  const form = useActionForm(createSessionAction, ZSessionCreateSchema);
  const { errors } = form;
  return (
    <DialogForm
      form={form}
      titleId="new-session-title"
      title="Open a session"
      submit="Open session"
      submitting="Opening…"
      onClose={onClose}
    >
      <p className="muted">For devices that do not open their own sessions. The device uploads into it by its id.</p>
      <input type="hidden" name="project" value={project} />
      <SelectField
        label="Device"
        name="device"
        error={errors.device}
        options={devices.map((d) => ({ value: d.serial, label: `${d.serial} — ${d.name}` }))}
      />
      <Field label="Name" name="name" error={errors.name} placeholder="e.g. Warehouse run 12" />
    </DialogForm>
  );
}
