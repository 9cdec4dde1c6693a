import type { Metadata } from "next";
import Link from "next/link";
import { SessionStateBadge } from "@/components/ui/badges";
import { EmptyState } from "@/components/ui/empty-state";
import { FilterActions } from "@/components/ui/filter-actions";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { SortHeader } from "@/components/ui/sort-header";
import { NewSessionButton } from "@/components/sessions/new-session-button";
import { formatBytes, formatDateTime } from "@/lib/format";
import { firstValues, toSearch, ZSessionListQuerySchema, type TSessionListQuery } from "@/lib/list-queries";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listDevices } from "@/server/devices/list-devices";
import { listSessions } from "@/server/sessions/list-sessions";

export const metadata: Metadata = { title: "Sessions" };

const DEFAULTS = { sort: "started", page: 1 };

export default async function SessionsPage({ params, searchParams }: { params: Promise<{ project: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const ctx = await requireProjectPage((await params).project);
  const query = ZSessionListQuerySchema.parse(firstValues(await searchParams));
  const [list, devices] = await Promise.all([listSessions({ ctx, query }), listDevices({ ctx })]);
  const base = `/p/${ctx.project.slug}/sessions`;
  const href = (patch: Partial<TSessionListQuery>) => `${base}${toSearch({ ...query, ...patch }, DEFAULTS)}`;
  const filtered = Boolean(query.q || query.device || query.state || query.from || query.to);
  const canManage = hasRole(ctx.role, CAN.manageSessions);
  const sortHref = (sort: string, dir: "asc" | "desc") => href({ sort: sort as TSessionListQuery["sort"], dir, page: 1 });

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: base }, { label: "Sessions" }]}
        title="Sessions"
        description="Each session is one recording run of a device, with the files it uploaded."
        actions={canManage && devices.length > 0 ? <NewSessionButton project={ctx.project.slug} devices={devices.map((d) => ({ serial: d.serial, name: d.name }))} /> : null}
      />
      <div className="card">
        <form className="filters" method="get" action={base} role="search" aria-label="Filter sessions">
          <div className="field grow">
            <label htmlFor="q">Search</label>
            <input id="q" name="q" type="search" defaultValue={query.q ?? ""} placeholder="Name, id or device serial" />
          </div>
          <div className="field">
            <label htmlFor="device">Device</label>
            <select id="device" name="device" defaultValue={query.device ?? ""}>
              <option value="">All devices</option>
              {devices.map((d) => (
                <option key={d.serial} value={d.serial}>
                  {d.serial} — {d.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="state">State</label>
            <select id="state" name="state" defaultValue={query.state ?? ""}>
              <option value="">Any</option>
              <option value="open">Open</option>
              <option value="closed">Closed</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="from">Started from</label>
            <input id="from" name="from" type="date" defaultValue={query.from ?? ""} />
          </div>
          <div className="field">
            <label htmlFor="to">Started until</label>
            <input id="to" name="to" type="date" defaultValue={query.to ?? ""} />
          </div>
          {query.sort !== "started" ? <input type="hidden" name="sort" value={query.sort} /> : null}
          {query.dir ? <input type="hidden" name="dir" value={query.dir} /> : null}
          <FilterActions filtered={filtered} clearHref={base} />
        </form>
        {list.total === 0 ? (
          filtered ? (
            <EmptyState icon="🔍" title="No sessions match" action={<Link className="btn" href={base}>Clear the filters</Link>}>
              Try another search term, device or date range.
            </EmptyState>
          ) : devices.length === 0 ? (
            <EmptyState icon="🤖" title="No devices yet" action={canManage ? <Link className="btn btn-primary" href={`/p/${ctx.project.slug}/devices`}>Add a device</Link> : null}>
              Sessions appear here once a device is registered and starts recording.
              {canManage ? "" : " Ask a project admin to add your devices."}
            </EmptyState>
          ) : (
            <EmptyState icon="📡" title="No sessions yet">
              A session appears when a device opens one over MQTT (or an admin opens it here); its files follow as they upload.
            </EmptyState>
          )
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" aria-label="Sessions">
                <thead>
                  <tr>
                    <SortHeader label="Session" column="name" current={query.sort} dir={query.dir} defaultDir="asc" hrefFor={sortHref} />
                    <th scope="col">Device</th>
                    <th scope="col">State</th>
                    <SortHeader label="Started" column="started" current={query.sort} dir={query.dir} defaultDir="desc" hrefFor={sortHref} />
                    <th scope="col" className="hide-sm">Ended</th>
                    <SortHeader label="Files" column="files" current={query.sort} dir={query.dir} defaultDir="desc" hrefFor={sortHref} className="num" />
                    <SortHeader label="Size" column="bytes" current={query.sort} dir={query.dir} defaultDir="desc" hrefFor={sortHref} className="num" />
                  </tr>
                </thead>
                <tbody>
                  {list.rows.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <Link href={`${base}/${s.id}`}>{s.name}</Link>
                        <div className="muted mono">#{s.id}</div>
                      </td>
                      <td>
                        <Link href={`/p/${ctx.project.slug}/devices/${encodeURIComponent(s.deviceSerial)}`}>{s.deviceSerial}</Link>
                        <div className="muted">{s.deviceName}</div>
                      </td>
                      <td>
                        <SessionStateBadge state={s.state} />
                      </td>
                      <td className="nowrap">{formatDateTime(s.startedAt)}</td>
                      <td className="nowrap hide-sm">{formatDateTime(s.endedAt)}</td>
                      <td className="num">
                        {s.files.toLocaleString("en-GB")}
                        {s.pending > 0 ? <div className="muted">{s.pending} pending</div> : null}
                      </td>
                      <td className="num nowrap">{formatBytes(s.bytes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination page={list.page} pageSize={list.pageSize} total={list.total} noun="sessions" hrefFor={(page) => href({ page })} />
          </>
        )}
      </div>
    </>
  );
}
