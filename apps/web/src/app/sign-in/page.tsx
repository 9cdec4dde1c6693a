import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { env } from "@/env";
import { safeCallbackPath } from "@/lib/callback-url";
import { getSessionUser } from "@/server/auth/session-user";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  // Only a path on this site: never an open redirect.
  const callbackUrl = safeCallbackPath(params.callbackUrl);
  if (await getSessionUser()) redirect(callbackUrl);
  const error = typeof params.error === "string" ? params.error : undefined;
  return (
    <main className="auth-page" id="main">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ⇣
          </span>{" "}
          Fleetdrop
        </div>
        <div className="card">
          <div className="card-body">
            <h1 style={{ marginBottom: 16 }}>Sign in</h1>
            <SignInForm
              callbackUrl={callbackUrl}
              initialError={error}
              sso={env.OIDC_ISSUER ? { name: env.OIDC_NAME ?? "Single sign-on" } : null}
            />
          </div>
        </div>
      </div>
    </main>
  );
}
