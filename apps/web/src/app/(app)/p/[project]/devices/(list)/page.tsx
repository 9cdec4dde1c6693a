import type { Metadata } from "next";
import Link from "next/link";
import { env } from "@/env";
import { DeviceStateBadge } from "@/components/ui/badges";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { NewDeviceButton } from "@/components/devices/new-device-button";
import { BulkDevicesButton } from "@/components/devices/bulk-devices-button";
import { certificateDevicesAvailable } from "@/server/devices/provisioning";
import { Bot } from "lucide-react";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatNumber } from "@/lib/format";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listDevices } from "@/server/devices/list-devices";
import { AgentBacklogCell } from "@/components/devices/agent-status-card";
import { LiveListPresence } from "@/components/devices/presence";

export const metadata: Metadata = { title: "Devices" };

export default async function DevicesPage({ params }: { params: Promise<{ project: string }> }) {
  const ctx = await requireProjectPage((await params).project);
  const devices = await listDevices({ ctx });
  const base = `/p/${ctx.project.slug}`;
  const canManage = hasRole(ctx.role, CAN.manageDevices);
  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `${base}/sessions` }, { label: "Devices" }]}
        title="Devices"
        description={
          "Robots and sensors that upload to this project. " +
          "A device signs in to MQTT as its serial, with a password or a client certificate."
        }
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
          <EmptyState icon={Bot} title="No devices yet" action={canManage ? null : undefined}>
            {canManage
              ? "Add your first device (or a CSV batch): you get its credentials once, as a bundle to put on the device."
              : "A project admin adds devices; they show up here with their sessions."}
          </EmptyState>
        ) : (
          <DataTable
            label="Devices"
            rows={devices}
            rowKey={(d) => d.id}
            columns={[
              {
                header: "Serial",
                primary: true,
                cell: (d) => (
                  <Link className="mono" href={`${base}/devices/${encodeURIComponent(d.serial)}`}>
                    {d.serial}
                  </Link>
                ),
              },
              { header: "Name", cell: (d) => d.name },
              { header: "State", cell: (d) => <DeviceStateBadge enabled={d.enabled} /> },
              {
                header: "Connection",
                cell: (d) => (
                  <LiveListPresence project={ctx.project.slug} serial={d.serial} initial={d.presence} lastSeenAt={d.lastSeenAt} />
                ),
              },
              {
                header: "Sessions",
                className: "num",
                cell: (d) => (
                  <>
                    {formatNumber(d.sessions)}
                    {d.openSessions > 0 ? <div className="muted">{formatNumber(d.openSessions)} open</div> : null}
                  </>
                ),
              },
              { header: "Upload agent", cell: (d) => <AgentBacklogCell agent={d.agent} /> },
              { header: "Added", className: "nowrap", cell: (d) => <Time value={d.createdAt} /> },
            ]}
          />
        )}
      </div>
    </>
  );
}
