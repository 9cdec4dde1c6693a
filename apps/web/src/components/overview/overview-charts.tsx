"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatBytes, formatNumber } from "@/lib/format";
import type { TOverview, TOverviewQuery } from "@/lib/overview";

/** The figures are aggregates over the whole range: a refresh every 15 s is plenty and cheap. */
const POLL_MS = 15_000;

const COLORS = { brand: "#1f5fd1", ok: "#146c43", danger: "#b42318", grey: "#8a94a3", warn: "#8a5300" };

function useOverview(project: string, query: TOverviewQuery, initial: TOverview): TOverview {
  const search = new URLSearchParams({ range: query.range, ...(query.by ? { by: query.by } : {}) });
  const { data } = useQuery({
    queryKey: ["overview", project, query.range, query.by ?? ""] as const,
    queryFn: async () => {
      const response = await fetch(`/api/p/${encodeURIComponent(project)}/overview?${search}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`overview: ${response.status}`);
      return (await response.json()) as TOverview;
    },
    refetchInterval: POLL_MS,
    initialData: initial,
  });
  return data;
}

function bucketLabel(iso: string, bucket: "hour" | "day"): string {
  return bucket === "hour" ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00` : iso.slice(5, 10);
}

function ChartCard({ title, summary, children, footer }: { title: string; summary: ReactNode; children: ReactNode; footer?: ReactNode }) {
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section className="card chart-card" aria-labelledby={id}>
      <div className="card-header">
        <h2 id={id}>{title}</h2>
        <span className="muted">{summary}</span>
      </div>
      <div className="card-body">{children}</div>
      {footer ? <div className="card-footer">{footer}</div> : null}
    </section>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return <p className="muted chart-empty">{children}</p>;
}

/** A bar chart whose bars are links (click → the list behind it); the table of links below is the keyboard way in. */
function Bars<T extends Record<string, unknown>>(props: {
  data: T[];
  x: string;
  y: string;
  label: (row: T) => string;
  value: (n: number) => string;
  href?: (row: T) => string;
  color: string | ((row: T) => string);
  layout?: "horizontal" | "vertical";
  height?: number;
}) {
  const router = useRouter();
  const vertical = props.layout === "vertical";
  return (
    <div className="chart" style={{ height: props.height ?? 220 }} aria-hidden="true">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart
          data={props.data}
          layout={vertical ? "vertical" : "horizontal"}
          margin={{ top: 4, right: 8, bottom: 4, left: vertical ? 8 : 0 }}
          accessibilityLayer={false}
        >
          <CartesianGrid strokeDasharray="3 3" vertical={vertical} horizontal={!vertical} stroke="#e5e8ec" />
          {vertical ? (
            <>
              <XAxis type="number" tickFormatter={props.value} fontSize={11} />
              <YAxis type="category" dataKey={props.x} width={110} fontSize={11} />
            </>
          ) : (
            <>
              <XAxis dataKey={props.x} fontSize={11} minTickGap={12} />
              <YAxis tickFormatter={props.value} width={56} fontSize={11} />
            </>
          )}
          <Tooltip formatter={(v) => props.value(Number(v))} cursor={{ fill: "rgba(31,95,209,0.08)" }} />
          <Bar
            dataKey={props.y}
            isAnimationActive={false}
            style={props.href ? { cursor: "pointer" } : undefined}
            onClick={(entry: { payload?: T }) => {
              if (props.href && entry.payload) router.push(props.href(entry.payload));
            }}
          >
            {props.data.map((row, index) => (
              <Cell key={index} fill={typeof props.color === "function" ? props.color(row) : props.color} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/**
 * Bars whose rows are links, and under them the same links as a list with `detail` (in rank order
 * if `ranked`); `x` names the field that labels a row.
 */
function LinkedBars<T extends Record<string, unknown>>(props: {
  data: T[];
  x: string;
  y: string;
  value: (n: number) => string;
  color: string;
  href: (row: T) => string;
  detail: (row: T) => string;
  rowHeight: number;
  ranked?: boolean;
  /** Device serials are set in the monospace font, as everywhere. */
  mono?: boolean;
}) {
  const label = (row: T) => String(row[props.x]);
  const List = props.ranked ? "ol" : "ul";
  return (
    <>
      <Bars
        data={props.data}
        x={props.x}
        y={props.y}
        label={label}
        value={props.value}
        href={props.href}
        color={props.color}
        layout="vertical"
        height={Math.max(100, props.rowHeight * props.data.length)}
      />
      <List className="chart-list">
        {props.data.map((row) => (
          <li key={label(row)}>
            <Link className={props.mono ? "mono" : undefined} href={props.href(row)}>
              {label(row)}
            </Link>{" "}
            <span className="num">{props.detail(row)}</span>
          </li>
        ))}
      </List>
    </>
  );
}

export function OverviewCharts({ project, query, initial }: { project: string; query: TOverviewQuery; initial: TOverview }) {
  const o = useOverview(project, query, initial);
  const base = `/p/${project}`;
  // The charts by device: a row per serial, linked to the device's page.
  const byDevice = {
    x: "serial",
    href: (row: { serial: string }) => `${base}/devices/${encodeURIComponent(row.serial)}`,
    rowHeight: 30,
    mono: true,
  };
  const arrivals = o.arrivals.map((a) => ({ ...a, label: bucketLabel(a.at, o.bucket) }));
  const totalFiles = o.arrivals.reduce((n, a) => n + a.files, 0);
  const totalBytes = o.arrivals.reduce((n, a) => n + a.bytes, 0);
  const refused = o.refusals.reduce((n, r) => n + r.count, 0);
  /** The sessions that received the files of one bar: those with a file that arrived in its hour or day. */
  const sessionsOn = (iso: string) => {
    const end = new Date(iso);
    if (o.bucket === "hour") end.setUTCHours(end.getUTCHours() + 1);
    else end.setUTCDate(end.getUTCDate() + 1);
    return `${base}/sessions?arrivedFrom=${encodeURIComponent(iso)}&arrivedTo=${encodeURIComponent(end.toISOString())}`;
  };
  const presence = [
    { label: "Online now", count: o.devices.online, color: COLORS.ok },
    { label: "Offline", count: o.devices.offline, color: COLORS.danger },
    { label: "Never reported", count: o.devices.unknown, color: COLORS.grey },
  ];

  return (
    <div className="overview-grid" data-testid="overview">
      <section className="stat-row" aria-label="At a glance">
        <Link className="stat card" href={`${base}/devices`} data-testid="stat-online">
          <span className="stat-value">{formatNumber(o.devices.online)}</span>
          <span className="stat-label">devices online now</span>
        </Link>
        <Link className="stat card" href={`${base}/devices`}>
          <span className="stat-value">{formatNumber(o.devices.seen24h)}</span>
          <span className="stat-label">seen in the last 24 h, of {formatNumber(o.devices.total)}</span>
        </Link>
        <Link className="stat card" href={`${base}/sessions`}>
          <span className="stat-value">{formatNumber(totalFiles)}</span>
          <span className="stat-label">
            files ({formatBytes(totalBytes)}) in {o.range}
          </span>
        </Link>
        <div className="stat card">
          <span className="stat-value">{formatNumber(refused)}</span>
          <span className="stat-label">requests refused in {o.range}</span>
        </div>
      </section>

      <ChartCard
        title="Files arriving"
        summary={`per ${o.bucket}, UTC`}
        footer={<span className="muted">Click a bar for the sessions that received its files.</span>}
      >
        {arrivals.length === 0 ? (
          <Empty>No file arrived in this range.</Empty>
        ) : (
          <Bars
            data={arrivals}
            x="label"
            y="files"
            label={(r) => r.label}
            value={formatNumber}
            href={(r) => sessionsOn(r.at)}
            color={COLORS.brand}
          />
        )}
      </ChartCard>

      <ChartCard title="Bytes arriving" summary={`per ${o.bucket}, UTC`}>
        {arrivals.length === 0 ? (
          <Empty>Nothing arrived in this range.</Empty>
        ) : (
          <Bars
            data={arrivals}
            x="label"
            y="bytes"
            label={(r) => r.label}
            value={(n) => formatBytes(n)}
            href={(r) => sessionsOn(r.at)}
            color={COLORS.ok}
          />
        )}
      </ChartCard>

      <ChartCard title="Refused requests" summary="by error code (docs/protocol.md)">
        {o.refusals.length === 0 ? (
          <Empty>No request was refused in this range.</Empty>
        ) : (
          <>
            <Bars data={o.refusals} x="code" y="count" label={(r) => r.code} value={formatNumber} color={COLORS.danger} layout="vertical" />
            <ul className="chart-list">
              {o.refusals.map((r) => (
                <li key={r.code}>
                  <span className="mono">{r.code}</span> <span className="num">{formatNumber(r.count)}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </ChartCard>

      <ChartCard title="Devices" summary={`${formatNumber(o.devices.total)} in the project`}>
        <Bars
          data={presence}
          x="label"
          y="count"
          label={(r) => r.label}
          value={formatNumber}
          href={() => `${base}/devices`}
          color={(r) => r.color}
          layout="vertical"
          height={140}
        />
        <ul className="chart-list">
          {presence.map((p) => (
            <li key={p.label}>
              <Link href={`${base}/devices`}>{p.label}</Link> <span className="num">{formatNumber(p.count)}</span>
            </li>
          ))}
        </ul>
      </ChartCard>

      <ChartCard title="Storage used" summary="per store">
        <LinkedBars
          data={o.storage}
          x="store"
          y="bytes"
          value={(n) => formatBytes(n)}
          color={COLORS.brand}
          href={(r) => (r.store === "sessions" ? `${base}/sessions` : `${base}/stores`)}
          detail={(s) => `${formatBytes(s.bytes)} · ${formatNumber(s.objects)} objects`}
          rowHeight={34}
        />
      </ChartCard>

      <ChartCard title="Devices sending the most" summary={`bytes in ${o.range}`}>
        {o.topDevices.length === 0 ? (
          <Empty>No device sent a file in this range.</Empty>
        ) : (
          <LinkedBars
            data={o.topDevices}
            {...byDevice}
            y="bytes"
            value={(n) => formatBytes(n)}
            color={COLORS.brand}
            ranked
            detail={(d) => `${formatBytes(d.bytes)} · ${formatNumber(d.files)} files`}
          />
        )}
      </ChartCard>

      <ChartCard title="Agents' backlogs" summary="files waiting on devices, from their status reports">
        {o.backlogs.length === 0 ? (
          <Empty>No device reported a backlog in the last 7 days (a device agent adds one to its status report).</Empty>
        ) : (
          <LinkedBars
            data={o.backlogs.map((b) => ({ ...b, waiting: b.bytes ?? b.files ?? 0 }))}
            {...byDevice}
            y="waiting"
            value={(n) => (o.backlogs.some((b) => b.bytes !== null) ? formatBytes(n) : formatNumber(n))}
            color={COLORS.warn}
            detail={(b) =>
              [b.files === null ? null : `${formatNumber(b.files)} files`, b.bytes === null ? null : formatBytes(b.bytes)]
                .filter((part) => part !== null)
                .join(" · ")
            }
          />
        )}
      </ChartCard>
    </div>
  );
}
