"use client";
import { useState, type ReactNode } from "react";
import type { TActionResult } from "@/lib/action-result";
import { Dialog } from "./dialog";
import { FormMessage, useActionForm } from "./form";

type TAction = (previous: TActionResult<unknown> | null, data: FormData) => Promise<TActionResult<unknown>>;

/**
 * A button that asks first, then runs a server action with the given hidden fields. The
 * dialog says what will happen; dangerous ones need the name typed in.
 */
export function ConfirmAction({
  label,
  title,
  children,
  action,
  fields,
  confirmLabel,
  danger = false,
  typeToConfirm,
  buttonClassName,
}: {
  label: string;
  title: string;
  children: ReactNode;
  action: TAction;
  fields: Record<string, string | number>;
  confirmLabel: string;
  danger?: boolean;
  typeToConfirm?: string;
  buttonClassName?: string;
}) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const { state, pending, onSubmit } = useActionForm(action);
  // A successful answer closes the dialog (adjusted while rendering: no extra effect pass).
  const [answered, setAnswered] = useState(state);
  if (state !== answered) {
    setAnswered(state);
    if (state?.ok) setOpen(false);
  }
  const id = `confirm-${label.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <>
      <button type="button" className={buttonClassName ?? (danger ? "btn btn-danger" : "btn")} onClick={() => setOpen(true)}>
        {label}
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} labelledBy={`${id}-title`}>
        <form onSubmit={onSubmit}>
          <div className="dialog-body">
            <h2 id={`${id}-title`}>{title}</h2>
            <div>{children}</div>
            <FormMessage state={state} />
            {Object.entries(fields).map(([name, value]) => (
              <input key={name} type="hidden" name={name} value={value} />
            ))}
            {typeToConfirm ? (
              <div className="field" style={{ marginTop: 12 }}>
                <label htmlFor={`${id}-typed`}>
                  Type <code>{typeToConfirm}</code> to confirm
                </label>
                <input id={`${id}-typed`} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
              </div>
            ) : null}
          </div>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button
              type="submit"
              className={danger ? "btn btn-danger" : "btn btn-primary"}
              disabled={pending || (typeToConfirm !== undefined && typed !== typeToConfirm)}
            >
              {pending ? "Working…" : confirmLabel}
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
