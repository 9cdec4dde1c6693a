import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { FilterActions } from "@/components/ui/filter-actions";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { formatDateTime } from "@/lib/format";
import { firstValues, toSearch, ZAuditListQuerySchema } from "@/lib/list-queries";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listAudit } from "@/server/audit/list-audit";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditPage({ params, searchParams }: { params: Promise<{ project: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const ctx = await requireProjectPage((await params).project, CAN.readAudit);
  const query = ZAuditListQuerySchema.parse(firstValues(await searchParams));
  const audit = await listAudit({ ctx, query });
  const base = `/p/${ctx.project.slug}/audit`;
  const filtered = Boolean(query.action || query.actor || query.from || query.to);
  return (
    <>
      <PageHeader crumbs={[{ label: ctx.project.name, href: `/p/${ctx.project.slug}/sessions` }, { label: "Audit log" }]} title="Audit log" description="Who did what, and when: downloads, device and session changes, membership." />
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
          <div className="field">
            <label htmlFor="from">From</label>
            <input id="from" name="from" type="date" defaultValue={query.from ?? ""} />
          </div>
          <div className="field">
            <label htmlFor="to">Until</label>
            <input id="to" name="to" type="date" defaultValue={query.to ?? ""} />
          </div>
          <FilterActions filtered={filtered} clearHref={base} />
        </form>
        {audit.total === 0 ? (
          <EmptyState icon="🧾" title={filtered ? "Nothing matches" : "Nothing recorded yet"}>
            {filtered ? "Try other filters." : "Downloads and changes to devices, sessions and members are recorded here."}
          </EmptyState>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" aria-label="Audit log">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col" className="hide-sm">Details</th>
                    <th scope="col" className="hide-sm">Address</th>
                  </tr>
                </thead>
                <tbody>
                  {audit.rows.map((r) => (
                    <tr key={r.id}>
                      <td className="nowrap">{formatDateTime(r.at)}</td>
                      <td>
                        {r.actorLabel}
                        {r.actorType !== "user" ? <span className="muted"> ({r.actorType})</span> : null}
                      </td>
                      <td>
                        <code>{r.action}</code>
                      </td>
                      <td className="mono">{r.targetType ? `${r.targetType} ${r.targetId ?? ""}` : "—"}</td>
                      <td className="hide-sm mono" style={{ maxWidth: 360, overflowWrap: "anywhere" }}>
                        {r.details ?? ""}
                      </td>
                      <td className="hide-sm mono">{r.ip ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination page={audit.page} pageSize={audit.pageSize} total={audit.total} noun="entries" hrefFor={(page) => `${base}${toSearch({ ...query, page }, { page: 1 })}`} />
          </>
        )}
      </div>
    </>
  );
}
