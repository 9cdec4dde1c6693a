"use client";
import { useActionState, useState, useTransition } from "react";
import { changeMemberRoleAction } from "@/actions/members";
import { ROLE_LABEL, ROLES, type TRole } from "@/lib/roles";

/** Changes a member's role as soon as another is picked. */
export function RoleSelect({ project, userId, role, label }: { project: string; userId: string; role: TRole; label: string }) {
  const [state, dispatch, pending] = useActionState(changeMemberRoleAction, null);
  const [, startTransition] = useTransition();
  const [value, setValue] = useState(role);
  // A refused change puts the select back to the role the member still has.
  const [answered, setAnswered] = useState({ state, role });
  if (answered.state !== state || answered.role !== role) {
    setAnswered({ state, role });
    if (state && !state.ok) setValue(role);
  }
  return (
    <div>
      <label className="sr-only" htmlFor={`role-${userId}`}>
        Role of {label}
      </label>
      <select
        id={`role-${userId}`}
        className="select input"
        style={{ width: "auto" }}
        value={value}
        disabled={pending}
        onChange={(event) => {
          setValue(event.target.value as TRole);
          const data = new FormData();
          data.set("project", project);
          data.set("userId", userId);
          data.set("role", event.target.value);
          startTransition(() => dispatch(data));
        }}
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {ROLE_LABEL[r]}
          </option>
        ))}
      </select>
      {state && !state.ok ? (
        <div className="field-error" role="alert">
          {state.error}
        </div>
      ) : null}
    </div>
  );
}
