import "server-only";

/** The last agent/status a device reported (docs/protocol.md#agentstatus), as the pages show it. */
export type TAgentStatusView = {
  backlogFiles: number;
  /** Bytes as a decimal string (BigInt does not cross to the client). */
  backlogBytes: string;
  oldestWaitingAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  reportedAt: string;
};

export const AGENT_STATUS_SELECT = {
  backlogFiles: true,
  backlogBytes: true,
  oldestWaitingAt: true,
  lastError: true,
  lastErrorAt: true,
  reportedAt: true,
} as const;

export function agentStatusView(
  row: {
    backlogFiles: number;
    backlogBytes: bigint;
    oldestWaitingAt: Date | null;
    lastError: string | null;
    lastErrorAt: Date | null;
    reportedAt: Date;
  } | null,
): TAgentStatusView | null {
  if (!row) return null;
  return {
    backlogFiles: row.backlogFiles,
    backlogBytes: row.backlogBytes.toString(),
    oldestWaitingAt: row.oldestWaitingAt?.toISOString() ?? null,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
    reportedAt: row.reportedAt.toISOString(),
  };
}
