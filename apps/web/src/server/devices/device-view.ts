import "server-only";
import type { Prisma } from "@fleetdrop/db";
import { toPresence, type TDevicePresence } from "@/lib/presence";
import { AGENT_STATUS_SELECT, agentStatusView, type TAgentStatusView } from "@/server/devices/agent-status";

/** What the device pages read of a device row; deviceView turns it into what they show. */
export const DEVICE_VIEW_SELECT = {
  id: true,
  serial: true,
  name: true,
  enabled: true,
  authMode: true,
  lastSeenAt: true,
  createdAt: true,
  agentStatus: { select: AGENT_STATUS_SELECT },
  presenceOnline: true,
  presenceSince: true,
  presenceVia: true,
} as const satisfies Prisma.DeviceSelect;

export type TDeviceView = {
  id: string;
  serial: string;
  name: string;
  enabled: boolean;
  authMode: "password" | "certificate";
  lastSeenAt: string | null;
  createdAt: string;
  presence: TDevicePresence;
  /** What its upload agent last reported; null when it runs none. */
  agent: TAgentStatusView | null;
};

/** A device as the pages show it: dates as ISO strings, the agent's report and the presence as views. */
export function deviceView(device: Prisma.DeviceGetPayload<{ select: typeof DEVICE_VIEW_SELECT }>): TDeviceView {
  const { agentStatus, presenceOnline, presenceSince, presenceVia, ...fields } = device;
  return {
    ...fields,
    agent: agentStatusView(agentStatus),
    presence: toPresence({ presenceOnline, presenceSince, presenceVia }),
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    createdAt: device.createdAt.toISOString(),
  };
}
