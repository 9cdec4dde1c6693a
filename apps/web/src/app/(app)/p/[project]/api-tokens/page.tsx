import type { Metadata } from "next";
import Link from "next/link";
import { KeyRound } from "lucide-react";
import { revokeApiTokenAction } from "@/actions/api-tokens";
import { NewApiTokenButton } from "@/components/api-tokens/new-api-token-button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Time } from "@/components/ui/time";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listApiTokens, type TApiTokenRow } from "@/server/api-tokens/manage-api-tokens";

export const metadata: Metadata = { title: "API tokens" };

const STATUS_BADGE: Record<TApiTokenRow["status"], { className: string; label: string }> = {
  active: { className: "badge badge-ok", label: "Active" },
  expired: { className: "badge badge-grey", label: "Expired" },
  revoked: { className: "badge badge-danger", label: "Revoked" },
};

/** The project's REST API tokens (docs/api.md): created here, shown once, revoked here. Admins only. */
export default async function ApiTokensPage({ params }: { params: Promise<{ project: string }> }) {
  const { project } = await params;
  const ctx = await requireProjectPage(project, CAN.manageApiTokens);
  const tokens = await listApiTokens({ ctx });
  const slug = ctx.project.slug;

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${slug}/sessions` }, { label: "API tokens" }]}
        title="API tokens"
        description={
          <>
            Back ends reach this project&apos;s devices, sessions and files over the REST API with a token, sent as{" "}
            <code>Authorization: Bearer fd_…</code>. A token sees this project only. See the{" "}
            <Link href="/api-reference">API reference</Link>.
          </>
        }
        actions={<NewApiTokenButton project={slug} />}
      />
      <section className="card" aria-labelledby="tokens-title">
        <div className="card-header">
          <h2 id="tokens-title">Tokens</h2>
        </div>
        {tokens.length === 0 ? (
          <div className="card-body">
            <EmptyState icon={KeyRound} title="No tokens yet">
              Create one for each service that calls the API, with the least scope it needs.
            </EmptyState>
          </div>
        ) : (
          <DataTable
            label="API tokens"
            rows={tokens}
            rowKey={(t) => t.id}
            columns={[
              {
                header: "Token",
                primary: true,
                cell: (t) => (
                  <>
                    {t.name} <span className={STATUS_BADGE[t.status].className}>{STATUS_BADGE[t.status].label}</span>
                    <div className="muted mono" style={{ fontWeight: 400 }}>
                      {t.displayPrefix}…
                    </div>
                  </>
                ),
              },
              { header: "Scope", cell: (t) => (t.scope === "write" ? "Read and write" : "Read") },
              {
                header: "Created",
                cell: (t) => (
                  <>
                    <Time value={t.createdAt} />
                    <div className="muted">{t.createdBy}</div>
                  </>
                ),
              },
              { header: "Expires", className: "nowrap", cell: (t) => (t.expiresAt ? <Time value={t.expiresAt} /> : "Never") },
              {
                header: "Last used",
                className: "nowrap",
                cell: (t) => (t.lastUsedAt ? <Time value={t.lastUsedAt} /> : <span className="muted">Never</span>),
              },
              {
                header: "Actions",
                hideHeader: true,
                cell: (t) =>
                  t.status === "revoked" ? null : (
                    <ConfirmAction
                      danger
                      label={`Revoke ${t.name}`}
                      title={`Revoke ${t.name}?`}
                      action={revokeApiTokenAction}
                      fields={{ project: slug, tokenId: t.id }}
                      confirmLabel="Revoke"
                    >
                      Requests with {t.displayPrefix}… are refused from now on (401). This cannot be undone.
                    </ConfirmAction>
                  ),
              },
            ]}
          />
        )}
      </section>
    </>
  );
}
