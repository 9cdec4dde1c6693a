"use client";
import { useActionState, useTransition } from "react";
import { resetUserPasswordAction, setUserDisabledAction } from "@/actions/admin";
import { OneTimeSecret } from "@/components/ui/form";

export function UserActions({ userId, disabled, self }: { userId: string; disabled: boolean; self: boolean }) {
  const [toggleState, toggle, toggling] = useActionState(setUserDisabledAction, null);
  const [resetState, reset, resetting] = useActionState(resetUserPasswordAction, null);
  const [, startTransition] = useTransition();
  const run = (dispatch: (data: FormData) => void, fields: Record<string, string>) => {
    const data = new FormData();
    for (const [k, v] of Object.entries(fields)) data.set(k, v);
    startTransition(() => dispatch(data));
  };
  return (
    <div>
      <div className="actions">
        {!self ? (
          <button
            type="button"
            className="btn btn-sm"
            disabled={toggling}
            onClick={() => run(toggle, { userId, disabled: String(!disabled) })}
          >
            {disabled ? "Enable" : "Disable"}
          </button>
        ) : null}
        <button type="button" className="btn btn-sm" disabled={resetting} onClick={() => run(reset, { userId })}>
          Reset password
        </button>
      </div>
      {toggleState && !toggleState.ok ? <div className="field-error">{toggleState.error}</div> : null}
      {resetState && !resetState.ok ? <div className="field-error">{resetState.error}</div> : null}
      {resetState?.ok && resetState.data ? <OneTimeSecret label="New password" value={resetState.data.password} /> : null}
    </div>
  );
}
