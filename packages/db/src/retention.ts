/**
 * Which sessions a retention rule deletes (docs/retention.md), as one SQL query used both by the
 * dashboard's preview and by the worker's deletion run, so a run deletes what the preview listed
 * (given the same data). Only closed sessions are eligible, never one marked *keep*, and never
 * one already being deleted.
 */
export type TRetentionRuleKind = "older_than_days" | "keep_last_sessions";
export type TRetentionRuleSpec = { kind: TRetentionRuleKind; value: number };

export const RETENTION_LIMITS = {
  older_than_days: { min: 1, max: 36_500 },
  keep_last_sessions: { min: 1, max: 100_000 },
} as const;

/** `SELECT id` of the sessions `rule` deletes in project `projectId`, oldest first, at most `limit`. */
export function retentionCandidatesQuery(projectId: string, rule: TRetentionRuleSpec, limit: number): { text: string; values: unknown[] } {
  if (rule.kind === "older_than_days") {
    return {
      text: /* sql */ `
        SELECT s.id FROM sessions s
        WHERE s.project_id = $1::uuid AND s.state = 'closed' AND NOT s.keep AND s.deleting_at IS NULL
          AND coalesce(s.ended_at, s.started_at) < now() - make_interval(days => $2::int)
        ORDER BY s.started_at, s.id LIMIT $3::int`,
      values: [projectId, rule.value, limit],
    };
  }
  // Rank among all of a device's sessions (kept and open ones count towards its last N).
  return {
    text: /* sql */ `
      SELECT r.id FROM (
        SELECT s.id, s.state, s.keep, s.deleting_at, s.started_at,
               row_number() OVER (PARTITION BY s.device_id ORDER BY s.started_at DESC, s.id DESC) AS rank
        FROM sessions s WHERE s.project_id = $1::uuid
      ) r
      WHERE r.rank > $2::int AND r.state = 'closed' AND NOT r.keep AND r.deleting_at IS NULL
      ORDER BY r.started_at, r.id LIMIT $3::int`,
    values: [projectId, rule.value, limit],
  };
}

/** The preview's rows: each session a rule would delete, with its files' count and bytes. */
export function retentionPreviewQuery(projectId: string, rule: TRetentionRuleSpec, limit: number): { text: string; values: unknown[] } {
  const candidates = retentionCandidatesQuery(projectId, rule, limit);
  return {
    text: /* sql */ `
      WITH c AS (${candidates.text})
      SELECT s.id, s.name, d.serial AS device, s.started_at, s.ended_at,
             (SELECT count(*) FROM files f WHERE f.session_id = s.id)::int AS files,
             (SELECT coalesce(sum(f.size), 0) FROM files f WHERE f.session_id = s.id)::int8 AS bytes
      FROM c JOIN sessions s ON s.id = c.id JOIN devices d ON d.id = s.device_id
      ORDER BY s.started_at, s.id`,
    values: candidates.values,
  };
}
