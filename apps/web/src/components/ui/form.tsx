"use client";
import {
  useActionState,
  useEffect,
  useRef,
  useState,
  useTransition,
  type FormEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type TextareaHTMLAttributes,
} from "react";
import type { z } from "zod";
import { TriangleAlert } from "lucide-react";
import { fieldErrors } from "@/lib/forms";
import { formDataToObject, type TActionResult } from "@/lib/action-result";

type TAction<R> = (previous: TActionResult<R> | null, data: FormData) => Promise<TActionResult<R>>;

/**
 * A form bound to a server action, validated first in the browser with the same zod schema
 * the server uses. Field errors from either side land on the fields. The form keeps what was
 * typed when the server refuses it.
 */
export function useActionForm<R>(action: TAction<R>, schema?: z.ZodType, options: { resetOnSuccess?: boolean } = {}) {
  const [state, dispatch, pending] = useActionState(action, null);
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [, startTransition] = useTransition();
  const formRef = useRef<HTMLFormElement>(null);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    if (schema) {
      const parsed = schema.safeParse(formDataToObject(data));
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error);
        setClientErrors(errors);
        const first = Object.keys(errors)[0];
        form.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
        return;
      }
    }
    setClientErrors({});
    startTransition(async () => {
      dispatch(data);
    });
  };

  const serverErrors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const errors = { ...serverErrors, ...clientErrors };
  useEffect(() => {
    if (state?.ok && options.resetOnSuccess) formRef.current?.reset();
  }, [state, options.resetOnSuccess]);
  return { state, pending, onSubmit, errors, formRef };
}

export function FormMessage({ state }: { state: TActionResult<unknown> | null }) {
  if (!state) return null;
  if (!state.ok)
    return (
      <div className="form-error" role="alert">
        {state.error}
      </div>
    );
  return state.message ? (
    <div className="form-ok" role="status">
      {state.message}
    </div>
  ) : null;
}

function describedBy(fieldId: string, hint: ReactNode, error: string | undefined): string | undefined {
  return [hint ? `${fieldId}-hint` : null, error ? `${fieldId}-error` : null].filter(Boolean).join(" ") || undefined;
}

/** The hint and error lines under a control, referenced by its aria-describedby. */
function FieldNotes({ fieldId, hint, error }: { fieldId: string; hint?: ReactNode; error?: string }) {
  return (
    <>
      {hint ? (
        <span id={`${fieldId}-hint`} className="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={`${fieldId}-error`} className="field-error">
          <TriangleAlert className="icon" aria-hidden="true" /> {error}
        </span>
      ) : null}
    </>
  );
}

type TFieldProps = InputHTMLAttributes<HTMLInputElement> & { label: string; name: string; error?: string; hint?: ReactNode };

export function Field({ label, name, error, hint, id, ...input }: TFieldProps) {
  const fieldId = id ?? `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      <input
        id={fieldId}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(fieldId, hint, error)}
        {...input}
      />
      <FieldNotes fieldId={fieldId} hint={hint} error={error} />
    </div>
  );
}

type TTextAreaFieldProps = TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string; name: string; error?: string; hint?: ReactNode };

/** A Field of several lines. */
export function TextAreaField({ label, name, error, hint, id, ...textarea }: TTextAreaFieldProps) {
  const fieldId = id ?? `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      <textarea
        id={fieldId}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(fieldId, hint, error)}
        {...textarea}
      />
      <FieldNotes fieldId={fieldId} hint={hint} error={error} />
    </div>
  );
}

export function SelectField({
  label,
  name,
  error,
  hint,
  options,
  defaultValue,
  id,
  onChange,
}: {
  label: string;
  name: string;
  error?: string;
  hint?: ReactNode;
  options: { value: string; label: string }[];
  defaultValue?: string;
  id?: string;
  onChange?: (value: string) => void;
}) {
  const fieldId = id ?? `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      <select
        id={fieldId}
        name={name}
        defaultValue={defaultValue}
        onChange={onChange ? (event) => onChange(event.target.value) : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(fieldId, hint, error)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldNotes fieldId={fieldId} hint={hint} error={error} />
    </div>
  );
}

/** Shows a secret once, with a copy button. */
export function OneTimeSecret({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <p className="label">{label}</p>
      <div className="secret">
        <code data-testid="one-time-secret">{value}</code>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <p className="hint muted">It is shown only now: store it before leaving this page.</p>
    </div>
  );
}
