/**
 * Which session a rule's file goes to, and opening it. A session key names the mapping
 * (`folder:logs`, `run:<run id>:logs`, `day:logs:2026-12-07`, `named:mission 12`); its session is
 * opened with a request_id derived from the device and the key, so an open whose answer was lost
 * (a crash, the broker gone) answers the same session when sent again, never a second one.
 */
import { createHash } from "node:crypto";
import type { TAgentRule } from "./config";
import type { AgentQueue } from "./queue";

export type TSessionOps = {
  openSession(input: { name: string; metadata: Record<string, unknown>; requestId: string }): Promise<{ session_id: number }>;
  closeSession(sessionId: number): Promise<unknown>;
};

/** The key of the session a file of `rule` that became ready at `now` goes to. Days are UTC. */
export function sessionKeyOf(rule: TAgentRule, runId: string, now: Date): string {
  const mapping = rule.session;
  if ("name" in mapping) return `named:${mapping.name}`;
  if (mapping.per === "run") return `run:${runId}:${rule.name}`;
  if (mapping.per === "day") return `day:${rule.name}:${now.toISOString().slice(0, 10)}`;
  return `folder:${rule.name}`;
}

/** The session's name in the dashboard. */
export function sessionNameOf(key: string, runStartedAt: Date): string {
  const [kind, ...rest] = key.split(":");
  if (kind === "named") return rest.join(":");
  if (kind === "run") return `${rest[1]} run ${runStartedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  if (kind === "day") return `${rest[0]} ${rest[1]}`;
  return rest.join(":");
}

export class SessionMapper {
  constructor(
    private readonly queue: AgentQueue,
    private readonly deviceId: string,
    private readonly runStartedAt: Date,
  ) {}

  /** The open session of a key: remembered, or opened now. */
  async sessionFor(ops: TSessionOps, key: string): Promise<number> {
    const known = this.queue.sessions.get(key);
    if (known && !known.closed) return known.id;
    const generation = this.queue.generations.get(key) ?? 0;
    const requestId = `agent-${createHash("sha256")
      .update(JSON.stringify([this.deviceId, key, generation]))
      .digest("base64url")
      .slice(0, 40)}`;
    const opened = await ops.openSession({ name: sessionNameOf(key, this.runStartedAt), metadata: { agent: key }, requestId });
    this.queue.sessions.set(key, { id: opened.session_id, generation });
    this.queue.changed();
    return opened.session_id;
  }

  /** The platform said the key's session is closed: the next file opens a new one. */
  sessionGone(key: string): void {
    this.queue.sessions.delete(key);
    this.queue.generations.set(key, (this.queue.generations.get(key) ?? 0) + 1);
    this.queue.changed();
  }

  /**
   * Closes the sessions that are over: a past run's or a past day's, once nothing waits for
   * them. Folder and named sessions stay open.
   */
  async closeFinished(ops: TSessionOps, currentKeys: ReadonlySet<string>, stopping: boolean): Promise<void> {
    for (const [key, record] of this.queue.sessions) {
      if (record.closed) continue;
      const kind = key.split(":")[0];
      if (kind !== "run" && kind !== "day") continue;
      if (this.queue.sessionInUse(key)) continue;
      if (currentKeys.has(key) && !(stopping && kind === "run")) continue;
      await ops.closeSession(record.id);
      this.queue.sessions.set(key, { ...record, closed: true });
      this.queue.changed();
    }
  }
}
