"use client";
import { useState } from "react";
import { ZSessionRenameSchema } from "@/lib/forms";
import { renameSessionAction } from "@/actions/sessions";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormMessage, useActionForm } from "@/components/ui/form";

export function RenameSessionButton({ project, sessionId, name }: { project: string; sessionId: number; name: string }) {
  const [open, setOpen] = useState(false);
  const { state, pending, onSubmit, errors } = useActionForm(renameSessionAction, ZSessionRenameSchema);
  // A successful answer closes the dialog (adjusted while rendering: no extra effect pass).
  const [answered, setAnswered] = useState(state);
  if (state !== answered) {
    setAnswered(state);
    if (state?.ok) setOpen(false);
  }
  return (
    <>
      <button type="button" className="btn" onClick={() => setOpen(true)}>
        Rename
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} labelledBy="rename-title">
        <form onSubmit={onSubmit} noValidate>
          <div className="dialog-body">
            <h2 id="rename-title">Rename session</h2>
            <FormMessage state={state && !state.ok ? state : null} />
            <input type="hidden" name="project" value={project} />
            <input type="hidden" name="sessionId" value={sessionId} />
            <Field label="Name" name="name" defaultValue={name} error={errors.name} />
          </div>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={pending}>
              {pending ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
