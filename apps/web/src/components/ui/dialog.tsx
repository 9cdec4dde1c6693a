"use client";
import { useEffect, useRef, type ReactNode } from "react";

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
