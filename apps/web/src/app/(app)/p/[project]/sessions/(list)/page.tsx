import type { Metadata } from "next";
import Link from "next/link";
import { SessionStateBadge } from "@/components/ui/badges";
import { EmptyState } from "@/components/ui/empty-state";
import { FilterActions } from "@/components/ui/filter-actions";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { DataTable } from "@/components/ui/data-table";
import { DateField } from "@/components/ui/date-field";
import { sortColumn } from "@/components/ui/sort-header";
import { Time } from "@/components/ui/time";
import { NewSessionButton } from "@/components/sessions/new-session-button";
import { Bot, RadioTower, SearchX } from "lucide-react";
import { formatBytes, formatNumber } from "@/lib/format";
import { firstValues, toSearch, ZSessionListQuerySchema, type TSessionListQuery } from "@/lib/list-queries";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listDevices } from "@/server/devices/list-devices";
import { listSessions } from "@/server/sessions/list-sessions";

export const metadata: Metadata = { title: "Sessions" };

const DEFAULTS = { sort: "started", page: 1 };

export default async function SessionsPage({
  params,
  searchParams,
}: {
  params: Promise<{ project: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const ctx = await requireProjectPage((await params).project);
  const query = ZSessionListQuerySchema.parse(firstValues(await searchParams));
  const [list, devices] = await Promise.all([listSessions({ ctx, query }), listDevices({ ctx })]);
  const base = `/p/${ctx.project.slug}/sessions`;
  const href = (patch: Partial<TSessionListQuery>) => `${base}${toSearch({ ...query, ...patch }, DEFAULTS)}`;
  const arrived = query.arrivedFrom && query.arrivedTo ? { from: query.arrivedFrom, to: query.arrivedTo } : null;
  const filtered = Boolean(query.q || query.device || query.state || query.from || query.to || arrived);
  const canManage = hasRole(ctx.role, CAN.manageSessions);
  const sortHref = (sort: string, dir: "asc" | "desc") => href({ sort: sort as TSessionListQuery["sort"], dir, page: 1 });
  const sort = (label: string, column: TSessionListQuery["sort"], defaultDir: "asc" | "desc") =>
    sortColumn({ label, column, current: query.sort, dir: query.dir, defaultDir, hrefFor: sortHref });

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: base }, { label: "Sessions" }]}
        title="Sessions"
        description="Each session is one recording run of a device, with the files it uploaded."
        actions={
          canManage && devices.length > 0 ? (
            <NewSessionButton project={ctx.project.slug} devices={devices.map((d) => ({ serial: d.serial, name: d.name }))} />
          ) : null
        }
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
          <DateField name="from" label="Started from" defaultValue={query.from} />
          <DateField name="to" label="Started until" defaultValue={query.to} />
          {arrived ? (
            <>
              <input type="hidden" name="arrivedFrom" value={arrived.from} />
              <input type="hidden" name="arrivedTo" value={arrived.to} />
            </>
          ) : null}
          {query.sort !== "started" ? <input type="hidden" name="sort" value={query.sort} /> : null}
          {query.dir ? <input type="hidden" name="dir" value={query.dir} /> : null}
          <FilterActions filtered={filtered} clearHref={base} />
        </form>
        {arrived ? (
          <p className="filter-note" data-testid="arrived-filter">
            Sessions with files that arrived from <Time value={arrived.from} /> until <Time value={arrived.to} />.{" "}
            <Link href={href({ arrivedFrom: undefined, arrivedTo: undefined, page: 1 })}>Show every session</Link>
          </p>
        ) : null}
        {list.total === 0 ? (
          filtered ? (
            <EmptyState
              icon={SearchX}
              title="No sessions match"
              action={
                <Link className="btn" href={base}>
                  Clear the filters
                </Link>
              }
            >
              Try another search term, device or date range.
            </EmptyState>
          ) : devices.length === 0 ? (
            <EmptyState
              icon={Bot}
              title="No devices yet"
              action={
                canManage ? (
                  <Link className="btn btn-primary" href={`/p/${ctx.project.slug}/devices`}>
                    Add a device
                  </Link>
                ) : null
              }
            >
              Sessions appear here once a device is registered and starts recording.
              {canManage ? "" : " Ask a project admin to add your devices."}
            </EmptyState>
          ) : (
            <EmptyState icon={RadioTower} title="No sessions yet">
              A session appears when a device opens one over MQTT (or an admin opens it here); its files follow as they upload.
            </EmptyState>
          )
        ) : (
          <>
            <DataTable
              label="Sessions"
              rows={list.rows}
              rowKey={(s) => s.id}
              columns={[
                {
                  header: "Session",
                  primary: true,
                  ...sort("Session", "name", "asc"),
                  cell: (s) => (
                    <>
                      <Link href={`${base}/${s.id}`}>{s.name}</Link> <span className="muted mono">#{s.id}</span>
                    </>
                  ),
                },
                {
                  header: "Device",
                  cell: (s) => (
                    <>
                      <Link href={`/p/${ctx.project.slug}/devices/${encodeURIComponent(s.deviceSerial)}`}>{s.deviceSerial}</Link>
                      <div className="muted">{s.deviceName}</div>
                    </>
                  ),
                },
                { header: "State", cell: (s) => <SessionStateBadge state={s.state} /> },
                {
                  header: "Started",
                  className: "nowrap",
                  ...sort("Started", "started", "desc"),
                  cell: (s) => <Time value={s.startedAt} />,
                },
                { header: "Ended", className: "nowrap", cell: (s) => (s.endedAt ? <Time value={s.endedAt} /> : null) },
                {
                  header: "Files",
                  className: "num",
                  ...sort("Files", "files", "desc"),
                  cell: (s) => (
                    <>
                      {formatNumber(s.files)}
                      {s.pending > 0 ? <div className="muted">{formatNumber(s.pending)} pending</div> : null}
                    </>
                  ),
                },
                { header: "Size", className: "num nowrap", ...sort("Size", "bytes", "desc"), cell: (s) => formatBytes(s.bytes) },
              ]}
            />
            <Pagination page={list.page} pageSize={list.pageSize} total={list.total} noun="session" hrefFor={(page) => href({ page })} />
          </>
        )}
      </div>
    </>
  );
}
