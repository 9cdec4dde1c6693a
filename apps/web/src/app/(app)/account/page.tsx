import type { Metadata } from "next";
import { ChangePasswordForm } from "@/components/account/change-password-form";
import { PageHeader } from "@/components/ui/page-header";
import { requireUser } from "@/server/auth/page-access";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const user = await requireUser();
  return (
    <>
      <PageHeader
        crumbs={[{ label: "Account" }]}
        title="Your account"
        description={`${user.name} · ${user.email}${user.isAdmin ? " · platform administrator" : ""}`}
      />
      <section className="card" aria-labelledby="password-title">
        <div className="card-header">
          <h2 id="password-title">Change password</h2>
        </div>
        <div className="card-body">
          <ChangePasswordForm />
        </div>
      </section>
    </>
  );
}
