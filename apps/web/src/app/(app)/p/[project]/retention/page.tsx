import type { Metadata } from "next";
import { Archive } from "lucide-react";
import { deleteRetentionRuleAction, setRetentionPausedAction } from "@/actions/retention";
import { NewRuleForm } from "@/components/retention/new-rule-form";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount } from "@/lib/format";
import { retentionRuleLabel } from "@/lib/retention-forms";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listRetentionRules, retentionStores } from "@/server/retention/retention";

export const metadata: Metadata = { title: "Retention" };

/** Retention rules (docs/retention.md): what is deleted, a preview before saving, progress, pause. */
export default async function RetentionPage({ params }: { params: Promise<{ project: string }> }) {
  const { project } = await params;
  const ctx = await requireProjectPage(project, CAN.manageSessions);
  const { rules, deleting } = await listRetentionRules({ ctx });
  const slug = ctx.project.slug;

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${slug}/sessions` }, { label: "Retention" }]}
        title="Retention"
        description={
          "Rules delete closed sessions — their files in storage and their records — or a per-device store's old objects, " +
          "in the background, in batches, each deletion audited. Open sessions and sessions marked keep are never deleted."
        }
      />
      <section className="card" aria-labelledby="rules-title">
        <div className="card-header">
          <h2 id="rules-title">Rules</h2>
          {deleting > 0 ? <span className="badge badge-warn">{formatCount(deleting, "session")} being deleted</span> : null}
        </div>
        {rules.length === 0 ? (
          <div className="card-body">
            <EmptyState icon={Archive} title="No rules: everything is kept">
              Add a rule below; you see what it would delete before saving it.
            </EmptyState>
          </div>
        ) : (
          <DataTable
            label="Retention rules"
            rows={rules}
            rowKey={(r) => r.id}
            columns={[
              {
                header: "Rule",
                primary: true,
                cell: (r) => (
                  <>
                    {retentionRuleLabel(r)}{" "}
                    {r.paused ? <span className="badge badge-grey">Paused</span> : <span className="badge badge-ok">Active</span>}
                  </>
                ),
              },
              {
                header: "Deleted so far",
                cell: (r) =>
                  r.store ? (
                    <>
                      {formatCount(Number(r.deletedFiles), "object")}
                      <div className="muted">{formatBytes(r.deletedBytes)}</div>
                    </>
                  ) : (
                    <>
                      {formatCount(Number(r.deletedSessions), "session")}
                      <div className="muted">
                        {formatCount(Number(r.deletedFiles), "file")}, {formatBytes(r.deletedBytes)}
                      </div>
                    </>
                  ),
              },
              {
                header: "Last run",
                className: "nowrap",
                cell: (r) => (r.lastRunAt ? <Time value={r.lastRunAt} /> : <span className="muted">not yet</span>),
              },
              { header: "Last problem", cell: (r) => r.lastError ?? <span className="muted">—</span> },
              {
                header: "Actions",
                hideHeader: true,
                cell: (r) => (
                  <div style={{ display: "flex", gap: "0.25rem", flexWrap: "wrap" }}>
                    <ConfirmAction
                      label={r.paused ? "Resume" : "Pause"}
                      title={r.paused ? "Resume this rule?" : "Pause this rule?"}
                      action={setRetentionPausedAction}
                      fields={{ project: slug, ruleId: r.id, paused: r.paused ? "false" : "true" }}
                      confirmLabel={r.paused ? "Resume" : "Pause"}
                      buttonClassName="btn btn-sm"
                    >
                      {r.paused
                        ? "The worker deletes what the rule selects again, from its next run."
                        : "The worker stops after the batch in progress (a batch started is always finished)."}
                    </ConfirmAction>
                    <ConfirmAction
                      danger
                      label="Delete rule"
                      title="Delete this rule?"
                      action={deleteRetentionRuleAction}
                      fields={{ project: slug, ruleId: r.id }}
                      confirmLabel="Delete rule"
                      buttonClassName="btn btn-sm btn-danger"
                    >
                      Nothing more is deleted by it. What it deleted stays deleted.
                    </ConfirmAction>
                  </div>
                ),
              },
            ]}
          />
        )}
      </section>
      <section className="card" aria-labelledby="new-rule-title" style={{ marginTop: "1rem" }}>
        <div className="card-header">
          <h2 id="new-rule-title">Add or change a rule</h2>
        </div>
        <NewRuleForm project={slug} stores={retentionStores()} />
      </section>
    </>
  );
}
