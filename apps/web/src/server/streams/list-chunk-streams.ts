import "server-only";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TChunkStreamRow = {
  id: string;
  name: string;
  urlTemplate: string;
  /** Header names only: values may hold API keys. */
  headerNames: string[];
  enabled: boolean;
  maxAttempts: number;
  timeoutMs: number;
  pending: number;
  parked: number;
  delivered: number;
  lastDeliveredAt: string | null;
  /** The most recent failure of any device's lane that has not succeeded since. */
  lastError: string | null;
  lastErrorAt: string | null;
  /** Lanes waiting on back-off (Retry-After or exponential). */
  backingOff: number;
};

/** The project's chunk streams (docs/protocol.md#chunks) with their outbox counts, for admins. */
export async function listChunkStreams(options: { ctx: TProjectContext }): Promise<TChunkStreamRow[]> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const rows = await db().$queryRaw<
    {
      id: string;
      name: string;
      url_template: string;
      headers: Record<string, string>;
      enabled: boolean;
      max_attempts: number;
      timeout_ms: number;
      pending: bigint;
      parked: bigint;
      delivered: bigint | null;
      last_delivered_at: Date | null;
      last_error: string | null;
      last_error_at: Date | null;
      backing_off: bigint;
    }[]
  >`
    SELECT s.id, s.name, s.url_template, s.headers, s.enabled, s.max_attempts, s.timeout_ms,
           (SELECT count(*) FROM chunk_outbox c WHERE c.stream_id = s.id AND c.state = 'pending') AS pending,
           (SELECT count(*) FROM chunk_outbox c WHERE c.stream_id = s.id AND c.state = 'parked') AS parked,
           (SELECT sum(l.delivered_count) FROM chunk_lanes l WHERE l.stream_id = s.id)::int8 AS delivered,
           (SELECT max(l.last_delivered_at) FROM chunk_lanes l WHERE l.stream_id = s.id) AS last_delivered_at,
           e.last_error, e.last_attempt_at AS last_error_at,
           (SELECT count(*) FROM chunk_lanes l WHERE l.stream_id = s.id AND l.next_attempt_at > now()) AS backing_off
    FROM chunk_streams s
    LEFT JOIN LATERAL (
      SELECT l.last_error, l.last_attempt_at FROM chunk_lanes l
      WHERE l.stream_id = s.id AND l.last_error IS NOT NULL ORDER BY l.last_attempt_at DESC NULLS LAST LIMIT 1
    ) e ON true
    WHERE s.project_id = ${ctx.project.id}::uuid
    ORDER BY s.name`;
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    urlTemplate: row.url_template,
    headerNames: Object.keys(row.headers ?? {}).sort(),
    enabled: row.enabled,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    pending: Number(row.pending),
    parked: Number(row.parked),
    delivered: Number(row.delivered ?? 0),
    lastDeliveredAt: row.last_delivered_at?.toISOString() ?? null,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at?.toISOString() ?? null,
    backingOff: Number(row.backing_off),
  }));
}
