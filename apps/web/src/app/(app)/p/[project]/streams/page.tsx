import type { Metadata } from "next";
import { resolveParkedChunksAction, setChunkStreamEnabledAction } from "@/actions/streams";
import { NewStreamButton } from "@/components/streams/new-stream-button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { formatBytes, formatDateTime } from "@/lib/format";
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
        description="Devices publish chunks (crash data, metrics) on P/fleet/{device}/chunks/{stream}; each is stored before it is acknowledged and forwarded to the stream's endpoint, in order per device, with retries. Chunks that keep failing are parked here with the reason."
        actions={<NewStreamButton project={slug} />}
      />
      <section className="card" aria-labelledby="streams-title">
        <div className="card-header">
          <h2 id="streams-title">Streams</h2>
        </div>
        {streams.length === 0 ? (
          <div className="card-body">
            <EmptyState icon="📡" title="No streams yet">Create one to forward devices&apos; chunks to an HTTP endpoint, e.g. a crash-reporting service keyed by device serial.</EmptyState>
          </div>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Chunk streams">
              <thead>
                <tr>
                  <th scope="col">Stream</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col" className="num">Waiting</th>
                  <th scope="col" className="num">Delivered</th>
                  <th scope="col" className="num">Parked</th>
                  <th scope="col">Last problem</th>
                  <th scope="col"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {streams.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <span className="mono">{s.name}</span>{" "}
                      {s.enabled ? <span className="badge badge-ok">Enabled</span> : <span className="badge badge-grey">Disabled</span>}
                      <div className="muted">{s.maxAttempts} attempts, {s.timeoutMs / 1000} s each</div>
                    </td>
                    <td>
                      <span className="mono" style={{ wordBreak: "break-all" }}>{s.urlTemplate}</span>
                      {s.headerNames.length > 0 ? <div className="muted">headers: {s.headerNames.join(", ")}</div> : null}
                    </td>
                    <td className="num">
                      {s.pending}
                      {s.backingOff > 0 ? <div className="muted">{s.backingOff} device{s.backingOff === 1 ? "" : "s"} backing off</div> : null}
                    </td>
                    <td className="num">
                      {s.delivered}
                      {s.lastDeliveredAt ? <div className="muted">last {formatDateTime(s.lastDeliveredAt)}</div> : null}
                    </td>
                    <td className="num">{s.parked > 0 ? <span className="badge badge-danger">{s.parked}</span> : 0}</td>
                    <td>{s.lastError ? <><span>{s.lastError}</span><div className="muted">{formatDateTime(s.lastErrorAt)}</div></> : <span className="muted">—</span>}</td>
                    <td>
                      <div style={{ display: "flex", gap: "0.25rem", flexWrap: "wrap" }}>
                        {s.parked > 0 ? (
                          <>
                            <ConfirmAction label={`Retry ${s.parked} parked`} title={`Retry the parked chunks of ${s.name}?`} action={resolveParkedChunksAction} fields={{ project: slug, streamId: s.id, action: "retry" }} confirmLabel="Retry">
                              They go back to the outbox with their attempts reset and are delivered again, oldest first.
                            </ConfirmAction>
                            <ConfirmAction danger label="Discard parked" title={`Discard the parked chunks of ${s.name}?`} action={resolveParkedChunksAction} fields={{ project: slug, streamId: s.id, action: "discard" }} confirmLabel="Discard">
                              {s.parked} chunk{s.parked === 1 ? "" : "s"} will be deleted without being delivered.
                            </ConfirmAction>
                          </>
                        ) : null}
                        <ConfirmAction label={s.enabled ? "Disable" : "Enable"} title={`${s.enabled ? "Disable" : "Enable"} ${s.name}?`} action={setChunkStreamEnabledAction} fields={{ project: slug, streamId: s.id, enabled: s.enabled ? "false" : "true" }} confirmLabel={s.enabled ? "Disable" : "Enable"}>
                          {s.enabled ? "Devices' new chunks on this stream are refused (404 stream_not_found) until it is enabled again." : "Devices' chunks on this stream are accepted and forwarded again."}
                        </ConfirmAction>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="parked-title" style={{ marginTop: "1rem" }}>
        <div className="card-header">
          <h2 id="parked-title">Parked chunks</h2>
          {parked.total > PARKED_PAGE_SIZE ? <span className="muted">newest {PARKED_PAGE_SIZE} of {parked.total}</span> : null}
        </div>
        {parked.rows.length === 0 ? (
          <div className="card-body">
            <EmptyState icon="✅" title="Nothing parked">Chunks that fail too often, or that an endpoint refuses for good, appear here with the reason.</EmptyState>
          </div>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Parked chunks">
              <thead>
                <tr>
                  <th scope="col">Chunk</th>
                  <th scope="col">Stream</th>
                  <th scope="col">Device</th>
                  <th scope="col" className="num">Size</th>
                  <th scope="col" className="num">Attempts</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Received</th>
                  <th scope="col">Parked</th>
                </tr>
              </thead>
              <tbody>
                {parked.rows.map((c) => (
                  <tr key={c.id}>
                    <td className="mono">{c.id}</td>
                    <td className="mono">{c.stream}</td>
                    <td className="mono">{c.device}</td>
                    <td className="num">{formatBytes(c.bytes)}</td>
                    <td className="num">{c.attempts}</td>
                    <td>{c.reason}</td>
                    <td>{formatDateTime(c.receivedAt)}</td>
                    <td>{formatDateTime(c.parkedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
