"use client";
import { useActionState, useTransition } from "react";
import { requestCaptureAction } from "@/actions/sessions";

/** Asks the device to capture now; the result lands in the live Files list. */
export function CaptureButton({ project, sessionId }: { project: string; sessionId: number }) {
  const [state, dispatch, pending] = useActionState(requestCaptureAction, null);
  const [, startTransition] = useTransition();
  return (
    <>
      <button
        type="button"
        className="btn"
        disabled={pending}
        onClick={() => {
          const data = new FormData();
          data.set("project", project);
          data.set("sessionId", String(sessionId));
          startTransition(() => dispatch(data));
        }}
      >
        {pending ? "Asking…" : "◉ Request capture"}
      </button>
      {state ? (
        <span role={state.ok ? "status" : "alert"} className={state.ok ? "badge badge-ok" : "badge badge-danger"} style={{ whiteSpace: "normal" }}>
          {state.ok ? state.message : state.error}
        </span>
      ) : null}
    </>
  );
}
