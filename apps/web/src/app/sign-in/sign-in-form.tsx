"use client";
import { signIn } from "next-auth/react";
import { useState, useSyncExternalStore, type FormEvent } from "react";
import { fieldErrors, ZSignInSchema } from "@/lib/forms";
import { Field } from "@/components/ui/form";
import { safeCallbackPath } from "@/lib/callback-url";

const MESSAGES: Record<string, string> = {
  rate_limited: "Too many failed sign-ins. Wait a few minutes, then try again.",
  AccessDenied: "This account cannot sign in here. Ask an administrator to invite you.",
  SessionRequired: "Sign in to continue.",
};
const GENERIC = "The email or password is not right.";

const noSubscription = () => () => {};

export function SignInForm({
  callbackUrl,
  initialError,
  sso,
}: {
  callbackUrl: string;
  initialError?: string;
  sso: { name: string } | null;
}) {
  const [error, setError] = useState<string | null>(initialError ? (MESSAGES[initialError] ?? GENERIC) : null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [pending, setPending] = useState(false);
  // Until the script runs the form cannot sign in; keep it from submitting natively.
  // False while the server renders and during hydration, true once the script runs.
  const ready = useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.currentTarget));
    const parsed = ZSignInSchema.safeParse(data);
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.error));
      return;
    }
    setErrors({});
    setPending(true);
    setError(null);
    const result = await signIn("credentials", { ...parsed.data, redirect: false });
    if (result?.ok && !result.error) {
      // Checked on the server already; checked again where the browser is sent.
      window.location.assign(safeCallbackPath(callbackUrl));
      return;
    }
    setPending(false);
    setError(MESSAGES[result?.error ?? ""] ?? GENERIC);
  }

  return (
    <>
      {error ? (
        <div className="form-error" role="alert">
          {error}
        </div>
      ) : null}
      <form onSubmit={(event) => void onSubmit(event)} method="post" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required autoFocus error={errors.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={errors.password} />
        <button className="btn btn-primary" type="submit" disabled={pending || !ready} style={{ width: "100%" }}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {sso ? (
        <>
          <div className="divider">or</div>
          <button className="btn" type="button" style={{ width: "100%" }} onClick={() => void signIn("oidc", { callbackUrl })}>
            Continue with {sso.name}
          </button>
        </>
      ) : null}
    </>
  );
}
