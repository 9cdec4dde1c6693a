import { Time } from "@/components/ui/time";
import { formatBytes, formatCount } from "@/lib/format";
import type { TAgentStatusView } from "@/server/devices/agent-status";

/** What the device's upload agent last reported (docs/devices.md, the upload agent). */
export function AgentStatusCard({ agent }: { agent: TAgentStatusView }) {
  return (
    <section className="card" aria-labelledby="device-agent">
      <div className="card-header">
        <h2 id="device-agent">Upload agent</h2>
      </div>
      <div style={{ padding: 16 }}>
        <dl className="meta">
          <dt>Waiting to upload</dt>
          <dd>
            {agent.backlogFiles === 0 ? "nothing" : `${formatCount(agent.backlogFiles, "file")} (${formatBytes(agent.backlogBytes)})`}
          </dd>
          <dt>Oldest waiting since</dt>
          <dd>{agent.oldestWaitingAt ? <Time value={agent.oldestWaitingAt} relative /> : "—"}</dd>
          <dt>Last error</dt>
          <dd>
            {agent.lastError ? (
              <>
                <span className="mono">{agent.lastError}</span>
                {agent.lastErrorAt ? (
                  <div className="muted">
                    <Time value={agent.lastErrorAt} relative />
                  </div>
                ) : null}
              </>
            ) : (
              "none"
            )}
          </dd>
          <dt>Reported</dt>
          <dd>
            <Time value={agent.reportedAt} relative />
          </dd>
        </dl>
      </div>
    </section>
  );
}

/** The devices list's cell: backlog, and whether the agent has an error to show. */
export function AgentBacklogCell({ agent }: { agent: TAgentStatusView | null }) {
  if (!agent) return <span className="muted">no agent</span>;
  return (
    <>
      {agent.backlogFiles === 0 ? "up to date" : `${formatCount(agent.backlogFiles, "file")} · ${formatBytes(agent.backlogBytes)}`}
      {agent.oldestWaitingAt ? (
        <div className="muted">
          oldest <Time value={agent.oldestWaitingAt} relative />
        </div>
      ) : null}
      {agent.lastError ? (
        <div className="muted" title={agent.lastError}>
          error: {agent.lastError.length > 60 ? `${agent.lastError.slice(0, 57)}…` : agent.lastError}
        </div>
      ) : null}
    </>
  );
}
