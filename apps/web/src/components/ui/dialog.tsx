"use client";
import { Fragment, useEffect, useRef, useState, type ReactNode } from "react";

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
  labelledBy,
  children,
  form,
}: {
  className?: string;
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

/** The footer of a dialog's form: Cancel, and the submit button that says when it is working. */
export function DialogFormActions({
  onClose,
  pending,
  submit,
  submitting,
}: {
  onClose: () => void;
  pending: boolean;
  submit: string;
  submitting: string;
}) {
  return (
    <div className="dialog-actions">
      <button type="button" className="btn" onClick={onClose}>
        Cancel
      </button>
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? submitting : submit}
      </button>
    </div>
  );
}
