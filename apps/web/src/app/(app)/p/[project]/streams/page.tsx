import type { Metadata } from "next";
import { resolveParkedChunksAction, setChunkStreamEnabledAction } from "@/actions/streams";
import { NewStreamButton } from "@/components/streams/new-stream-button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { CircleCheck, Waypoints } from "lucide-react";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listChunkStreams } from "@/server/streams/list-chunk-streams";
import { listParkedChunks, PARKED_PAGE_SIZE } from "@/server/streams/list-parked-chunks";

export const metadata: Metadata = { title: "Chunk streams" };

/** Chunk streams (docs/protocol.md#chunks): where devices' chunks are forwarded, how delivery goes, and what was parked and why. */
export default async function StreamsPage({ params }: { params: Promise<{ project: string }> }) {
  const { project } = await params;
  const ctx = await requireProjectPage(project, CAN.manageDevices);
  const [streams, parked] = await Promise.all([listChunkStreams({ ctx }), listParkedChunks({ ctx })]);
  const slug = ctx.project.slug;

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${slug}/sessions` }, { label: "Chunk streams" }]}
        title="Chunk streams"
        description={
          "Devices publish chunks (crash data, metrics) on P/fleet/{device}/chunks/{stream}; each is stored before it is " +
          "acknowledged and forwarded to the stream's endpoint, in order per device, with retries. " +
          "Chunks that keep failing are parked here with the reason."
        }
        actions={<NewStreamButton project={slug} />}
      />
      <section className="card" aria-labelledby="streams-title">
        <div className="card-header">
          <h2 id="streams-title">Streams</h2>
        </div>
        {streams.length === 0 ? (
          <div className="card-body">
            <EmptyState icon={Waypoints} title="No streams yet">
              Create one to forward devices&apos; chunks to an HTTP endpoint, e.g. a crash-reporting service keyed by device serial.
            </EmptyState>
          </div>
        ) : (
          <DataTable
            label="Chunk streams"
            rows={streams}
            rowKey={(s) => s.id}
            columns={[
              {
                header: "Stream",
                primary: true,
                cell: (s) => (
                  <>
                    <span className="mono">{s.name}</span>{" "}
                    {s.enabled ? <span className="badge badge-ok">Enabled</span> : <span className="badge badge-grey">Disabled</span>}
                    <div className="muted" style={{ fontWeight: 400 }}>
                      {formatCount(s.maxAttempts, "attempt")}, {s.timeoutMs / 1000} s each
                    </div>
                  </>
                ),
              },
              {
                header: "Endpoint",
                cell: (s) => (
                  <>
                    <span className="mono" style={{ overflowWrap: "anywhere" }}>
                      {s.urlTemplate}
                    </span>
                    {s.headerNames.length > 0 ? <div className="muted">headers: {s.headerNames.join(", ")}</div> : null}
                  </>
                ),
              },
              {
                header: "Waiting",
                className: "num",
                cell: (s) => (
                  <>
                    {formatNumber(s.pending)}
                    {s.backingOff > 0 ? <div className="muted">{formatCount(s.backingOff, "device")} backing off</div> : null}
                  </>
                ),
              },
              {
                header: "Delivered",
                className: "num",
                cell: (s) => (
                  <>
                    {formatNumber(s.delivered)}
                    {s.lastDeliveredAt ? (
                      <div className="muted">
                        last <Time value={s.lastDeliveredAt} />
                      </div>
                    ) : null}
                  </>
                ),
              },
              {
                header: "Parked",
                className: "num",
                cell: (s) => (s.parked > 0 ? <span className="badge badge-danger">{formatNumber(s.parked)}</span> : "0"),
              },
              {
                header: "Last problem",
                cell: (s) =>
                  s.lastError ? (
                    <>
                      <span>{s.lastError}</span>
                      <div className="muted">
                        <Time value={s.lastErrorAt} />
                      </div>
                    </>
                  ) : (
                    <span className="muted">—</span>
                  ),
              },
              {
                header: "Actions",
                hideHeader: true,
                cell: (s) => (
                  <div style={{ display: "flex", gap: "0.25rem", flexWrap: "wrap" }}>
                    {s.parked > 0 ? (
                      <>
                        <ConfirmAction
                          label={`Retry ${formatCount(s.parked, "parked chunk")}`}
                          title={`Retry the parked chunks of ${s.name}?`}
                          action={resolveParkedChunksAction}
                          fields={{ project: slug, streamId: s.id, action: "retry" }}
                          confirmLabel="Retry"
                        >
                          They go back to the outbox with their attempts reset and are delivered again, oldest first.
                        </ConfirmAction>
                        <ConfirmAction
                          danger
                          label="Discard parked"
                          title={`Discard the parked chunks of ${s.name}?`}
                          action={resolveParkedChunksAction}
                          fields={{ project: slug, streamId: s.id, action: "discard" }}
                          confirmLabel="Discard"
                        >
                          {formatCount(s.parked, "chunk")} will be deleted without being delivered.
                        </ConfirmAction>
                      </>
                    ) : null}
                    <ConfirmAction
                      label={s.enabled ? "Disable" : "Enable"}
                      title={`${s.enabled ? "Disable" : "Enable"} ${s.name}?`}
                      action={setChunkStreamEnabledAction}
                      fields={{ project: slug, streamId: s.id, enabled: s.enabled ? "false" : "true" }}
                      confirmLabel={s.enabled ? "Disable" : "Enable"}
                    >
                      {s.enabled
                        ? "Devices' new chunks on this stream are refused (404 stream_not_found) until it is enabled again."
                        : "Devices' chunks on this stream are accepted and forwarded again."}
                    </ConfirmAction>
                  </div>
                ),
              },
            ]}
          />
        )}
      </section>

      <section className="card" aria-labelledby="parked-title" style={{ marginTop: "1rem" }}>
        <div className="card-header">
          <h2 id="parked-title">Parked chunks</h2>
          {parked.total > PARKED_PAGE_SIZE ? (
            <span className="muted">
              newest {formatNumber(PARKED_PAGE_SIZE)} of {formatNumber(parked.total)}
            </span>
          ) : null}
        </div>
        {parked.rows.length === 0 ? (
          <div className="card-body">
            <EmptyState icon={CircleCheck} title="Nothing parked">
              Chunks that fail too often, or that an endpoint refuses for good, appear here with the reason.
            </EmptyState>
          </div>
        ) : (
          <DataTable
            label="Parked chunks"
            rows={parked.rows}
            rowKey={(c) => c.id}
            columns={[
              { header: "Chunk", primary: true, className: "mono", cell: (c) => c.id },
              { header: "Stream", className: "mono", cell: (c) => c.stream },
              { header: "Device", className: "mono", cell: (c) => c.device },
              { header: "Size", className: "num nowrap", cell: (c) => formatBytes(c.bytes) },
              { header: "Attempts", className: "num", cell: (c) => formatNumber(c.attempts) },
              { header: "Reason", cell: (c) => c.reason },
              { header: "Received", className: "nowrap", cell: (c) => <Time value={c.receivedAt} /> },
              { header: "Parked", className: "nowrap", cell: (c) => <Time value={c.parkedAt} /> },
            ]}
          />
        )}
      </section>
    </>
  );
}
