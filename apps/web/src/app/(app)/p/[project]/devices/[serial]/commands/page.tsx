import type { Metadata } from "next";
import { AutoRefresh } from "@/components/commands/auto-refresh";
import { SendCommandsForm } from "@/components/commands/send-commands-form";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Terminal } from "lucide-react";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatDateTime } from "@/lib/format";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listCommandRuns, type TCommandEvent } from "@/server/commands/list-command-runs";
import { getDevice } from "@/server/devices/get-device";
import { notFoundOnDomainError } from "@/server/page-errors";

export const metadata: Metadata = { title: "Commands" };

function StatusBadge({ status }: { status: string }) {
  const ok = status === "success" || status === "ok";
  return <span className={ok ? "badge badge-ok" : "badge badge-danger"}>{status}</span>;
}

export default async function DeviceCommandsPage({ params }: { params: Promise<{ project: string; serial: string }> }) {
  const { project, serial } = await params;
  const ctx = await requireProjectPage(project);
  const device = await notFoundOnDomainError(getDevice({ ctx, serial: decodeURIComponent(serial) }));
  const events = await notFoundOnDomainError(listCommandRuns({ ctx, serial: device.serial }));
  const base = `/p/${ctx.project.slug}`;
  const canSend = hasRole(ctx.role, CAN.manageDevices);
  // Waiting while the newest entry of a service is a list sent in the last 10 minutes with no report after it.
  const newestPerService = new Map<string, TCommandEvent>();
  for (const event of events) if (!newestPerService.has(event.service)) newestPerService.set(event.service, event);
  const awaiting = [...newestPerService.values()].some((event) => event.kind === "sent" && Date.now() - Date.parse(event.at) < 10 * 60_000);
  const lastService = events.find((event) => event.kind === "sent")?.service ?? "monitor";

  return (
    <>
      <AutoRefresh active={awaiting} />
      <PageHeader
        crumbs={[
          { label: ctx.project.name, href: `${base}/sessions` },
          { label: "Devices", href: `${base}/devices` },
          { label: device.serial, href: `${base}/devices/${encodeURIComponent(device.serial)}` },
          { label: "Commands" },
        ]}
        title={<>Commands for {device.name}</>}
        description={
          <>
            The device fetches <span className="mono">commands.json</span> from the <span className="mono">incoming</span> store when told
            on <span className="mono">…/fleet/{device.serial}/commands</span>, runs the commands in order and uploads its report to the{" "}
            <span className="mono">status</span> store.
          </>
        }
      />
      {canSend ? (
        <section className="card" aria-labelledby="send-commands">
          <div className="card-header">
            <h2 id="send-commands">Send commands</h2>
          </div>
          <div className="card-body">
            {device.enabled ? (
              <SendCommandsForm project={ctx.project.slug} serial={device.serial} defaultService={lastService} presence={device.presence} />
            ) : (
              <p className="muted">The device is disabled: enable it to send commands.</p>
            )}
          </div>
        </section>
      ) : null}
      <section className="card" aria-labelledby="command-history">
        <div className="card-header">
          <h2 id="command-history">History</h2>
          {awaiting ? (
            <span className="badge badge-info badge-pulse" role="status">
              Waiting for the device&apos;s report…
            </span>
          ) : null}
        </div>
        {events.length === 0 ? (
          <EmptyState icon={Terminal} title="No commands yet">
            {canSend ? "Send a list above; the device's report shows up here." : "Admins can send command lists to this device."}
          </EmptyState>
        ) : (
          <ol
            className="command-history"
            aria-label={`Command history of ${device.serial}`}
            style={{ listStyle: "none", margin: 0, padding: 0 }}
          >
            {events.map((event) => (
              <li key={event.id} className="card-body" style={{ borderTop: "1px solid var(--border, #e3e8ef)" }} data-kind={event.kind}>
                {event.kind === "sent" ? (
                  <>
                    <p>
                      <strong>Sent</strong> to <span className="mono">{event.service}</span> by {event.by} · <Time value={event.at} />
                      {event.notified ? null : <span className="badge badge-grey"> not notified (broker unavailable)</span>}
                    </p>
                    <ol className="mono">
                      {event.commands.map((c, index) => (
                        <li key={index}>{c.command}</li>
                      ))}
                    </ol>
                  </>
                ) : (
                  <>
                    <p>
                      <strong>Report</strong> from <span className="mono">{event.service}</span> · <Time value={event.at} />{" "}
                      {event.report ? (
                        <StatusBadge status={event.report.general_status} />
                      ) : (
                        <span className="badge badge-danger">unreadable</span>
                      )}
                    </p>
                    {event.report ? (
                      <>
                        {event.report.general_error ? <p className="form-error">{event.report.general_error}</p> : null}
                        <DataTable
                          label={`Report of ${event.service} at ${formatDateTime(event.at)}`}
                          rows={event.report.commands.map((c, index) => ({ ...c, index }))}
                          rowKey={(c) => c.index}
                          columns={[
                            { header: "Command", primary: true, className: "mono", cell: (c) => c.command },
                            { header: "Status", cell: (c) => <StatusBadge status={c.status} /> },
                            {
                              header: "Result",
                              cell: (c) => (
                                <pre
                                  className="mono"
                                  style={{
                                    margin: 0,
                                    whiteSpace: "pre-wrap",
                                    overflowWrap: "anywhere",
                                    maxHeight: "12em",
                                    overflow: "auto",
                                  }}
                                >
                                  {c.result ?? ""}
                                </pre>
                              ),
                            },
                          ]}
                        />
                      </>
                    ) : (
                      <p className="form-error">{event.error}</p>
                    )}
                  </>
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
