import type { Metadata } from "next";
import { CircleCheck, Webhook } from "lucide-react";
import { deleteWebhookAction, redeliverWebhookAction, sendTestEventAction, setWebhookEnabledAction } from "@/actions/webhooks";
import { RollSecretButton, WebhookFormButton } from "@/components/webhooks/webhook-form-button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Time } from "@/components/ui/time";
import { formatNumber } from "@/lib/format";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { DELIVERY_LOG_SIZE, listWebhookDeliveries, listWebhookEndpoints } from "@/server/webhooks/list-webhooks";

export const metadata: Metadata = { title: "Webhooks" };

const STATE_BADGE = { pending: "badge-warn", delivered: "badge-ok", parked: "badge-danger" } as const;

/** Webhooks (docs/api.md#webhooks): endpoints, the events they get, and the delivery log with each attempt. */
export default async function WebhooksPage({ params }: { params: Promise<{ project: string }> }) {
  const { project } = await params;
  const ctx = await requireProjectPage(project, CAN.manageDevices);
  const [endpoints, deliveries] = await Promise.all([listWebhookEndpoints({ ctx }), listWebhookDeliveries({ ctx })]);
  const slug = ctx.project.slug;

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${slug}/sessions` }, { label: "Webhooks" }]}
        title="Webhooks"
        description={
          "Events of this project (files uploaded, sessions opened and closed, failed uploads, command results) are POSTed " +
          "to your endpoints, signed with the endpoint's secret, at least once and in order per device. " +
          "Failed deliveries are retried with back-off; each attempt is logged below."
        }
        actions={<WebhookFormButton project={slug} />}
      />
      <section className="card" aria-labelledby="endpoints-title">
        <div className="card-header">
          <h2 id="endpoints-title">Endpoints</h2>
        </div>
        {endpoints.length === 0 ? (
          <div className="card-body">
            <EmptyState icon={Webhook} title="No endpoints yet">
              Add one to have events sent to your service; verify them with the secret shown when you create it.
            </EmptyState>
          </div>
        ) : (
          <DataTable
            label="Webhook endpoints"
            rows={endpoints}
            rowKey={(e) => e.id}
            columns={[
              {
                header: "Endpoint",
                primary: true,
                cell: (e) => (
                  <>
                    <span className="mono" style={{ overflowWrap: "anywhere" }}>
                      {e.url}
                    </span>{" "}
                    {e.enabled ? <span className="badge badge-ok">Enabled</span> : <span className="badge badge-grey">Disabled</span>}
                    {e.description ? <div className="muted">{e.description}</div> : null}
                  </>
                ),
              },
              { header: "Events", cell: (e) => <span className="mono">{e.events.join(", ")}</span> },
              { header: "Waiting", className: "num", cell: (e) => formatNumber(e.pending) },
              { header: "Delivered", className: "num", cell: (e) => formatNumber(e.delivered) },
              {
                header: "Parked",
                className: "num",
                cell: (e) => (e.parked > 0 ? <span className="badge badge-danger">{formatNumber(e.parked)}</span> : "0"),
              },
              { header: "Last problem", cell: (e) => e.lastError ?? <span className="muted">—</span> },
              {
                header: "Actions",
                hideHeader: true,
                cell: (e) => (
                  <div style={{ display: "flex", gap: "0.25rem", flexWrap: "wrap" }}>
                    <ConfirmAction
                      label="Send test event"
                      title={`Send a test event to ${e.url}?`}
                      action={sendTestEventAction}
                      fields={{ project: slug, endpointId: e.id }}
                      confirmLabel="Send"
                      buttonClassName="btn btn-sm"
                    >
                      A <span className="mono">webhook.test</span> event is queued for this endpoint only; its delivery appears in the log.
                    </ConfirmAction>
                    <WebhookFormButton project={slug} existing={e} />
                    <RollSecretButton project={slug} endpointId={e.id} url={e.url} />
                    <ConfirmAction
                      label={e.enabled ? "Disable" : "Enable"}
                      title={`${e.enabled ? "Disable" : "Enable"} ${e.url}?`}
                      action={setWebhookEnabledAction}
                      fields={{ project: slug, endpointId: e.id, enabled: e.enabled ? "false" : "true" }}
                      confirmLabel={e.enabled ? "Disable" : "Enable"}
                      buttonClassName="btn btn-sm"
                    >
                      {e.enabled
                        ? "No new events are queued for it, and what is waiting is held until it is enabled again."
                        : "New events are queued for it again, and what was waiting is delivered."}
                    </ConfirmAction>
                    <ConfirmAction
                      danger
                      label="Delete"
                      title={`Delete ${e.url}?`}
                      action={deleteWebhookAction}
                      fields={{ project: slug, endpointId: e.id }}
                      confirmLabel="Delete"
                      buttonClassName="btn btn-sm btn-danger"
                    >
                      The endpoint, its waiting events and its delivery log are deleted.
                    </ConfirmAction>
                  </div>
                ),
              },
            ]}
          />
        )}
      </section>

      <section className="card" aria-labelledby="deliveries-title" style={{ marginTop: "1rem" }}>
        <div className="card-header">
          <h2 id="deliveries-title">Delivery log</h2>
          <span className="muted">newest {formatNumber(DELIVERY_LOG_SIZE)}</span>
        </div>
        {deliveries.length === 0 ? (
          <div className="card-body">
            <EmptyState icon={CircleCheck} title="Nothing delivered yet">
              Each event sent to an endpoint appears here with every attempt: its HTTP status, or why there was none.
            </EmptyState>
          </div>
        ) : (
          <DataTable
            label="Webhook deliveries"
            rows={deliveries}
            rowKey={(d) => d.id}
            columns={[
              {
                header: "Event",
                primary: true,
                cell: (d) => (
                  <>
                    <span className="mono">{d.type}</span> <span className={`badge ${STATE_BADGE[d.state]}`}>{d.state}</span>
                    {d.redelivery ? <span className="badge badge-grey">redelivery</span> : null}
                    <div className="muted mono" style={{ overflowWrap: "anywhere" }}>
                      {d.eventId}
                    </div>
                  </>
                ),
              },
              { header: "Device", className: "mono", cell: (d) => d.device ?? <span className="muted">—</span> },
              {
                header: "Endpoint",
                cell: (d) => (
                  <span className="mono" style={{ overflowWrap: "anywhere" }}>
                    {d.endpointUrl}
                  </span>
                ),
              },
              {
                header: "Attempts",
                cell: (d) =>
                  d.attempts.length === 0 ? (
                    <span className="muted">not yet</span>
                  ) : (
                    <ol className="attempts" aria-label={`Attempts of delivery ${d.id}`}>
                      {d.attempts.map((a, index) => (
                        <li key={index}>
                          <span className={`badge ${a.status !== null && a.status < 300 ? "badge-ok" : "badge-danger"}`}>
                            {a.status ?? "no answer"}
                          </span>{" "}
                          <Time value={a.at} /> <span className="muted">{a.durationMs} ms</span>
                          {a.error ? <div className="muted">{a.error}</div> : null}
                        </li>
                      ))}
                    </ol>
                  ),
              },
              { header: "Queued", className: "nowrap", cell: (d) => <Time value={d.createdAt} /> },
              {
                header: "Actions",
                hideHeader: true,
                cell: (d) =>
                  d.state === "pending" ? null : (
                    <ConfirmAction
                      label="Redeliver"
                      title={`Deliver ${d.type} again?`}
                      action={redeliverWebhookAction}
                      fields={{ project: slug, deliveryId: d.id }}
                      confirmLabel="Redeliver"
                      buttonClassName="btn btn-sm"
                    >
                      The same event (same Fleetdrop-Event-Id) is sent again after what is waiting for this device.
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
