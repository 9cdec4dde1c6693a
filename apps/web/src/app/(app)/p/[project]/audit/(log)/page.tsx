import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { FilterActions } from "@/components/ui/filter-actions";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { ScrollText } from "lucide-react";
import { DataTable } from "@/components/ui/data-table";
import { DateField } from "@/components/ui/date-field";
import { Time } from "@/components/ui/time";
import { firstValues, toSearch, ZAuditListQuerySchema } from "@/lib/list-queries";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listAudit } from "@/server/audit/list-audit";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditPage({
  params,
  searchParams,
}: {
  params: Promise<{ project: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const ctx = await requireProjectPage((await params).project, CAN.readAudit);
  const query = ZAuditListQuerySchema.parse(firstValues(await searchParams));
  const audit = await listAudit({ ctx, query });
  const base = `/p/${ctx.project.slug}/audit`;
  const filtered = Boolean(query.action || query.actor || query.from || query.to);
  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${ctx.project.slug}/sessions` }, { label: "Audit log" }]}
        title="Audit log"
        description="Who did what, and when: downloads, device and session changes, membership."
      />
      <div className="card">
        <form className="filters" method="get" action={base} role="search" aria-label="Filter the audit log">
          <div className="field">
            <label htmlFor="action">Action</label>
            <select id="action" name="action" defaultValue={query.action ?? ""}>
              <option value="">All actions</option>
              {audit.actions.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <div className="field grow">
            <label htmlFor="actor">Who</label>
            <input id="actor" name="actor" type="search" defaultValue={query.actor ?? ""} placeholder="Email or device serial" />
          </div>
          <DateField name="from" label="From" defaultValue={query.from} />
          <DateField name="to" label="Until" defaultValue={query.to} />
          <FilterActions filtered={filtered} clearHref={base} />
        </form>
        {audit.total === 0 ? (
          <EmptyState icon={ScrollText} title={filtered ? "Nothing matches" : "Nothing recorded yet"}>
            {filtered ? "Try other filters." : "Downloads and changes to devices, sessions and members are recorded here."}
          </EmptyState>
        ) : (
          <>
            <DataTable
              label="Audit log"
              rows={audit.rows}
              rowKey={(r) => r.id}
              columns={[
                { header: "When", className: "nowrap", cell: (r) => <Time value={r.at} /> },
                {
                  header: "Who",
                  cell: (r) => (
                    <>
                      {r.actorLabel}
                      {r.actorType !== "user" ? <span className="muted"> ({r.actorType})</span> : null}
                    </>
                  ),
                },
                { header: "Action", primary: true, cell: (r) => <code>{r.action}</code> },
                {
                  header: "Target",
                  cell: (r) =>
                    r.target ? (
                      <>
                        <span className="muted">{r.target.type}</span> {r.target.label}
                        {r.target.gone ? <span className="muted"> (deleted)</span> : null}
                      </>
                    ) : null,
                },
                {
                  header: "Details",
                  cell: (r) =>
                    r.details.length > 0 ? (
                      <ul className="details-list">
                        {r.details.map((d) => (
                          <li key={d.key}>
                            <span className="k">{d.key}:</span> {d.value}
                          </li>
                        ))}
                      </ul>
                    ) : null,
                },
                { header: "Address", cell: (r) => r.address },
              ]}
            />
            <Pagination
              page={audit.page}
              pageSize={audit.pageSize}
              total={audit.total}
              noun={{ one: "entry", other: "entries" }}
              hrefFor={(page) => `${base}${toSearch({ ...query, page }, { page: 1 })}`}
            />
          </>
        )}
      </div>
    </>
  );
}
