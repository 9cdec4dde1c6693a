"use client";
import { useLayoutEffect } from "react";
import { ZSessionRenameSchema } from "@/lib/forms";
import { renameSessionAction } from "@/actions/sessions";
import { DialogButton, DialogForm } from "@/components/ui/dialog";
import { Field, useActionForm } from "@/components/ui/form";

export function RenameSessionButton({ project, sessionId, name }: { project: string; sessionId: number; name: string }) {
  return (
    <DialogButton
      className="btn"
      labelledBy="rename-title"
      form={(close) => <RenameSessionForm project={project} sessionId={sessionId} name={name} onClose={close} />}
    >
      Rename
    </DialogButton>
  );
}

function RenameSessionForm({
  project,
  sessionId,
  name,
  onClose,
}: {
  project: string;
  sessionId: number;
  name: string;
  onClose: () => void;
}) {
  const form = useActionForm(renameSessionAction, ZSessionRenameSchema);
  const { state, errors } = form;
  // The new name shows in the page's heading: a successful answer closes the dialog before the
  // browser paints it (a layout effect), so it does not flash up.
  useLayoutEffect(() => {
    if (state?.ok) onClose();
  }, [state, onClose]);
  return (
    <DialogForm form={form} titleId="rename-title" title="Rename session" submit="Save" submitting="Saving…" onClose={onClose}>
      <input type="hidden" name="project" value={project} />
      <input type="hidden" name="sessionId" value={sessionId} />
      <Field label="Name" name="name" defaultValue={name} error={errors.name} />
    </DialogForm>
  );
}
