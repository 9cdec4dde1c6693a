import type { Metadata } from "next";
import Link from "next/link";
import { deleteDeviceAction, setDeviceEnabledAction } from "@/actions/devices";
import { DeviceStateBadge, SessionStateBadge } from "@/components/ui/badges";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { RadioTower, Terminal } from "lucide-react";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import { firstValues, toSearch, ZSessionListQuerySchema } from "@/lib/list-queries";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { getDevice } from "@/server/devices/get-device";
import { notFoundOnDomainError } from "@/server/page-errors";
import { listSessions } from "@/server/sessions/list-sessions";
import { CaptureButton } from "@/components/sessions/capture-button";
import { latestOpenSession } from "@/server/captures/request-device-capture";
import { commandsEnabled } from "@/server/mqtt/command-publisher";
import { revokeDeviceAction } from "@/actions/device-credentials";
import { RotateCredentialsButton } from "@/components/devices/rotate-credentials-button";
import { certificateDevicesAvailable } from "@/server/devices/provisioning";
import { DeviceCredentialsCard } from "@/components/devices/device-credentials-card";
import { getDeviceCredentials } from "@/server/devices/get-device-credentials";
import { AgentStatusCard } from "@/components/devices/agent-status-card";
import { LivePresence } from "@/components/devices/presence";

export const metadata: Metadata = { title: "Device" };

export default async function DevicePage({
  params,
  searchParams,
}: {
  params: Promise<{ project: string; serial: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { project, serial } = await params;
  const ctx = await requireProjectPage(project);
  const device = await notFoundOnDomainError(getDevice({ ctx, serial: decodeURIComponent(serial) }));
  const query = ZSessionListQuerySchema.parse({ ...firstValues(await searchParams), device: undefined });
  const sessions = await listSessions({ ctx, query, deviceId: device.id });
  const base = `/p/${ctx.project.slug}`;
  const self = `${base}/devices/${encodeURIComponent(device.serial)}`;
  const canManage = hasRole(ctx.role, CAN.manageDevices);
  const credentials = canManage ? await getDeviceCredentials({ ctx, serial: device.serial }) : null;
  const captureInto = hasRole(ctx.role, CAN.capture) && commandsEnabled() && device.enabled ? await latestOpenSession(device.id) : null;
  const impactBytes = formatBytes(device.impact.bytes);
  const deviceFields = { project: ctx.project.slug, serial: device.serial };
  const toggle = device.enabled ? "Disable" : "Enable";
  // Revoke and Delete cannot be undone: the serial must be typed to confirm them.
  const destructive = { danger: true, fields: deviceFields, typeToConfirm: device.serial };

  return (
    <>
      <PageHeader
        crumbs={[
          { label: ctx.project.name, href: `${base}/sessions` },
          { label: "Devices", href: `${base}/devices` },
          { label: device.serial },
        ]}
        title={
          <>
            {device.name} <DeviceStateBadge enabled={device.enabled} />{" "}
            <LivePresence project={ctx.project.slug} serial={device.serial} initial={device.presence} />
          </>
        }
        description={
          <>
            <span className="mono">{device.serial}</span> · {device.authMode} sign-in · last seen{" "}
            <Time value={device.lastSeenAt} relative />
          </>
        }
        actions={
          canManage || captureInto ? (
            <>
              {captureInto ? <CaptureButton project={ctx.project.slug} serial={device.serial} presence={device.presence} /> : null}
              <Link className="btn" href={`${self}/commands`}>
                <Terminal className="icon" aria-hidden="true" /> Commands
              </Link>
              {canManage ? (
                <>
                  <ConfirmAction
                    label={toggle}
                    title={`${toggle} ${device.serial}?`}
                    action={setDeviceEnabledAction}
                    fields={{ ...deviceFields, enabled: String(!device.enabled) }}
                    confirmLabel={`${toggle} device`}
                  >
                    {device.enabled ? (
                      <p>
                        The device&apos;s requests are refused (“device disabled”) until you enable it again. Its sessions and files stay
                        available here.
                      </p>
                    ) : (
                      <p>The device can open sessions and upload again.</p>
                    )}
                  </ConfirmAction>
                  <RotateCredentialsButton
                    project={ctx.project.slug}
                    serial={device.serial}
                    authMode={device.authMode}
                    certificates={certificateDevicesAvailable()}
                  />
                  <ConfirmAction
                    label="Revoke"
                    title={`Revoke ${device.serial}?`}
                    action={revokeDeviceAction}
                    confirmLabel="Revoke credentials"
                    {...destructive}
                  >
                    <p>
                      For a lost or stolen device: its{" "}
                      {device.authMode === "certificate" ? "certificates go into the revocation list" : "password is erased"} and it is
                      disabled, so the broker refuses it. Its sessions and files stay.
                    </p>
                    <p className="muted">To bring it back later, rotate its credentials and enable it.</p>
                  </ConfirmAction>
                  <ConfirmAction
                    label="Delete"
                    title={`Delete ${device.serial}?`}
                    action={deleteDeviceAction}
                    confirmLabel="Delete device and files"
                    {...destructive}
                  >
                    <p>
                      This deletes the device, its <strong>{formatCount(device.impact.sessions, "session")}</strong> and their{" "}
                      <strong>{formatCount(device.impact.files, "file")}</strong> ({impactBytes}): the records here{" "}
                      <em>and the stored objects</em>. The device can no longer connect. This cannot be undone.
                    </p>
                    <p className="muted">To keep its files, disable the device instead.</p>
                  </ConfirmAction>
                </>
              ) : null}
            </>
          ) : null
        }
      />
      <dl className="stats">
        <div className="stat">
          <dt>Sessions</dt>
          <dd>{formatNumber(device.impact.sessions)}</dd>
        </div>
        <div className="stat">
          <dt>Files</dt>
          <dd>{formatNumber(device.impact.files)}</dd>
        </div>
        <div className="stat">
          <dt>Stored</dt>
          <dd>{formatBytes(device.impact.bytes)}</dd>
        </div>
        <div className="stat">
          <dt>Last seen</dt>
          <dd>
            <Time value={device.lastSeenAt} relative />
          </dd>
        </div>
      </dl>
      {device.agent ? <AgentStatusCard agent={device.agent} /> : null}
      {credentials ? <DeviceCredentialsCard credentials={credentials} /> : null}
      <section className="card" aria-labelledby="device-sessions">
        <div className="card-header">
          <h2 id="device-sessions">Sessions</h2>
        </div>
        {sessions.total === 0 ? (
          <EmptyState icon={RadioTower} title="No sessions yet">
            The device opens a session when a mission starts; its files show up there.
          </EmptyState>
        ) : (
          <>
            <DataTable
              label={`Sessions of ${device.serial}`}
              rows={sessions.rows}
              rowKey={(s) => s.id}
              columns={[
                {
                  header: "Session",
                  primary: true,
                  cell: (s) => (
                    <>
                      <Link href={`${base}/sessions/${s.id}`}>{s.name}</Link> <span className="muted mono">#{s.id}</span>
                    </>
                  ),
                },
                { header: "State", cell: (s) => <SessionStateBadge state={s.state} /> },
                { header: "Started", className: "nowrap", cell: (s) => <Time value={s.startedAt} /> },
                { header: "Files", className: "num", cell: (s) => formatNumber(s.files) },
                { header: "Size", className: "num nowrap", cell: (s) => formatBytes(s.bytes) },
              ]}
            />
            <Pagination
              page={sessions.page}
              pageSize={sessions.pageSize}
              total={sessions.total}
              noun="session"
              hrefFor={(page) => `${self}${toSearch({ page }, { page: 1 })}`}
            />
          </>
        )}
      </section>
    </>
  );
}
