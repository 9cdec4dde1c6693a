import type { Metadata } from "next";
import Link from "next/link";
import { env } from "@/env";
import { DeviceStateBadge } from "@/components/ui/badges";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { NewDeviceButton } from "@/components/devices/new-device-button";
import { BulkDevicesButton } from "@/components/devices/bulk-devices-button";
import { certificateDevicesAvailable } from "@/server/devices/provisioning";
import { formatDateTime, formatRelative } from "@/lib/format";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listDevices } from "@/server/devices/list-devices";

export const metadata: Metadata = { title: "Devices" };

export default async function DevicesPage({ params }: { params: Promise<{ project: string }> }) {
  const ctx = await requireProjectPage((await params).project);
  const devices = await listDevices({ ctx });
  const base = `/p/${ctx.project.slug}`;
  const canManage = hasRole(ctx.role, CAN.manageDevices);
  const now = new Date();
  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `${base}/sessions` }, { label: "Devices" }]}
        title="Devices"
        description="Robots and sensors that upload to this project. A device signs in to MQTT as its serial, with a password or a client certificate."
        actions={
          canManage ? (
            <>
              <BulkDevicesButton project={ctx.project.slug} certificates={certificateDevicesAvailable()} />
              <NewDeviceButton project={ctx.project.slug} topicPrefix={env.TOPIC_PREFIX} certificates={certificateDevicesAvailable()} />
            </>
          ) : null
        }
      />
      <div className="card">
        {devices.length === 0 ? (
          <EmptyState icon="🤖" title="No devices yet" action={canManage ? null : undefined}>
            {canManage ? "Add your first device (or a CSV batch): you get its credentials once, as a bundle to put on the device." : "A project admin adds devices; they show up here with their sessions."}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Devices">
              <thead>
                <tr>
                  <th scope="col">Serial</th>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Last seen</th>
                  <th scope="col" className="num">Sessions</th>
                  <th scope="col" className="hide-sm">Added</th>
                </tr>
              </thead>
              <tbody>
                {devices.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <Link className="mono" href={`${base}/devices/${encodeURIComponent(d.serial)}`}>
                        {d.serial}
                      </Link>
                    </td>
                    <td>{d.name}</td>
                    <td>
                      <DeviceStateBadge enabled={d.enabled} />
                    </td>
                    <td title={formatDateTime(d.lastSeenAt)}>{formatRelative(d.lastSeenAt, now)}</td>
                    <td className="num">
                      {d.sessions.toLocaleString("en-GB")}
                      {d.openSessions > 0 ? <div className="muted">{d.openSessions} open</div> : null}
                    </td>
                    <td className="hide-sm nowrap">{formatDateTime(d.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}
