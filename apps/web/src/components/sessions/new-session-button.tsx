"use client";
import { useState } from "react";
import { ZSessionCreateSchema } from "@/lib/forms";
import { createSessionAction } from "@/actions/sessions";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormMessage, SelectField, useActionForm } from "@/components/ui/form";

export function NewSessionButton({ project, devices }: { project: string; devices: { serial: string; name: string }[] }) {
  const [open, setOpen] = useState(false);
  const { state, pending, onSubmit, errors } = useActionForm(createSessionAction, ZSessionCreateSchema);
  return (
    <>
      <button className="btn btn-primary" type="button" onClick={() => setOpen(true)}>
        + New session
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} labelledBy="new-session-title">
        <form onSubmit={onSubmit} noValidate>
          <div className="dialog-body">
            <h2 id="new-session-title">Open a session</h2>
            <p className="muted">For devices that do not open their own sessions. The device uploads into it by its id.</p>
            <FormMessage state={state} />
            <input type="hidden" name="project" value={project} />
            <SelectField
              label="Device"
              name="device"
              error={errors.device}
              options={devices.map((d) => ({ value: d.serial, label: `${d.serial} — ${d.name}` }))}
            />
            <Field label="Name" name="name" error={errors.name} placeholder="e.g. Warehouse run 12" />
          </div>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={pending}>
              {pending ? "Opening…" : "Open session"}
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
