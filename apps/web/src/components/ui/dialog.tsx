"use client";
import { Fragment, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import type { TActionResult } from "@/lib/action-result";
import { FormMessage } from "./form";

/**
 * A modal on the native <dialog>: focus moves in and is trapped, Escape closes, focus returns
 * to the opener afterwards (browser behaviour).
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  className = "dialog",
  labelledBy,
}: {
  open: boolean;
  onClose: () => void;
  title?: string;
  children: ReactNode;
  className?: string;
  labelledBy?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className={className} onClose={onClose} aria-label={labelledBy ? undefined : title} aria-labelledby={labelledBy}>
      {open ? children : null}
    </dialog>
  );
}

/** The last step of a dialog that did something: what was done, and one Done button. */
export function DialogOutcome({
  titleId,
  title,
  children,
  onClose,
}: {
  titleId: string;
  title: ReactNode;
  children?: ReactNode;
  onClose: () => void;
}) {
  return (
    <div>
      <div className="dialog-body">
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
      <div className="dialog-actions">
        <button type="button" className="btn btn-primary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}

/**
 * A button that opens a dialog with a fresh form each time: the form is mounted anew on every
 * opening, so no earlier answer, error or input lingers. `form(close)` renders the dialog's content.
 */
export function DialogButton({
  className = "btn btn-primary",
  ariaLabel,
  labelledBy,
  children,
  form,
}: {
  className?: string;
  /** The button's accessible name where its label alone is ambiguous (one button per table row). */
  ariaLabel?: string;
  /** The id of the dialog's heading. */
  labelledBy: string;
  /** The button's label. */
  children: ReactNode;
  form: (close: () => void) => ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const [opened, setOpened] = useState(0);
  const close = () => setOpen(false);
  return (
    <>
      <button
        className={className}
        type="button"
        aria-label={ariaLabel}
        onClick={() => {
          setOpened((n) => n + 1);
          setOpen(true);
        }}
      >
        {children}
      </button>
      <Dialog open={open} onClose={close} labelledBy={labelledBy}>
        <Fragment key={opened}>{form(close)}</Fragment>
      </Dialog>
    </>
  );
}

/**
 * A dialog's form bound to a server action (`form` is what useActionForm returns): the heading,
 * the action's answer, the fields, then Cancel and the submit button, which says when it is
 * working. Validation is the zod schema's, so the browser's own is off.
 */
export function DialogForm({
  form,
  titleId,
  title,
  submit,
  submitting,
  onClose,
  children,
}: {
  form: { state: TActionResult<unknown> | null; pending: boolean; onSubmit: (event: FormEvent<HTMLFormElement>) => void };
  titleId: string;
  title: ReactNode;
  submit: string;
  submitting: string;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <form onSubmit={form.onSubmit} noValidate>
      <div className="dialog-body">
        <h2 id={titleId}>{title}</h2>
        <FormMessage state={form.state} />
        {children}
      </div>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={form.pending}>
          {form.pending ? submitting : submit}
        </button>
      </div>
    </form>
  );
}
