/**
 * Applies a project's retention rules (docs/retention.md) in batches. Per batch:
 *   1. mark the sessions `deleting_at` (committed: from here on the deletion is never undone),
 *   2. delete their files' objects from storage (deleting what is already gone is fine),
 *   3. in one transaction: delete the session rows (files and transfers cascade), write one
 *      `retention.delete` audit row per session, count them on the rule.
 * A crash between 1 and 3 leaves marked sessions whose objects may be partly gone; every run
 * first finishes marked sessions (steps 2–3 again), so no row is left pointing at a deleted
 * object once a run has completed. One run per project at a time across workers (advisory lock).
 * Pausing a rule stops it from marking more; a batch already marked is always finished.
 *
 * A rule for a named store (docs/retention.md#rules-for-a-store) has no rows to keep in step: per
 * batch its objects (@fleetdrop/shared/retention/store-objects, as the preview lists them) are
 * deleted, then one `retention.delete_objects` audit row names the ones that were.
 */
import { ADVISORY_LOCK } from "@fleetdrop/db/advisory-locks";
import type { Pool, PoolClient } from "@fleetdrop/db/pool";
import { retentionCandidatesQuery, type TRetentionRuleKind } from "@fleetdrop/db/retention";
import { storeRetentionCandidates } from "@fleetdrop/shared/retention/store-objects";
import type { TNamedStore } from "@fleetdrop/storage/named-stores";
import type { Store } from "@fleetdrop/storage/store";
import { withTransaction } from "../db/transaction";
import type { Logger } from "../logger";

export type TRetentionSettings = {
  /** How often every project's rules are applied. */
  intervalMs: number;
  /** Sessions per batch. */
  batchSize: number;
};

export type TRetentionResult = { sessions: number; files: number; bytes: number };

type TRule = { id: string; kind: TRetentionRuleKind; value: number; store: string };

/** Parallel object deletions within a batch. */
const DELETE_CONCURRENCY = 8;

async function activeRules(db: Pool | PoolClient, projectId: string): Promise<TRule[]> {
  const result = await db.query<TRule>(
    "SELECT id, kind::text AS kind, value, store FROM retention_rules WHERE project_id = $1 AND NOT paused ORDER BY store, kind",
    [projectId],
  );
  return result.rows;
}

/** Steps 2 and 3 for sessions already marked; `ruleId` is the rule that marked them, if known. */
async function finishSessions(
  pool: Pool,
  store: Store,
  projectId: string,
  sessionIds: number[],
  ruleId: string | null,
  log: Logger,
): Promise<TRetentionResult> {
  if (sessionIds.length === 0) return { sessions: 0, files: 0, bytes: 0 };
  const files = await pool.query<{ session_id: number; object_key: string; size: string | null }>(
    "SELECT session_id, object_key, size FROM files WHERE session_id = ANY($1::int[])",
    [sessionIds],
  );
  const keys = files.rows.map((row) => row.object_key);
  for (let start = 0; start < keys.length; start += DELETE_CONCURRENCY) {
    // Every deletion of the group ends before a failure is reported, so a failed run leaves no
    // storage call running behind the next one.
    const results = await Promise.allSettled(keys.slice(start, start + DELETE_CONCURRENCY).map((key) => store.delete(key)));
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
  const perSession = new Map<number, { files: number; bytes: number }>();
  for (const row of files.rows) {
    const entry = perSession.get(row.session_id) ?? { files: 0, bytes: 0 };
    entry.files += 1;
    entry.bytes += row.size === null ? 0 : Number(row.size);
    perSession.set(row.session_id, entry);
  }
  const removed = await withTransaction(pool, async (client) => {
    const deleted = await client.query<{ id: number; name: string; serial: string | null; started_at: Date }>(
      `DELETE FROM sessions s USING devices d
       WHERE s.id = ANY($1::int[]) AND s.deleting_at IS NOT NULL AND d.id = s.device_id
       RETURNING s.id, s.name, d.serial, s.started_at`,
      [sessionIds],
    );
    const totals = { sessions: 0, files: 0, bytes: 0 };
    for (const row of deleted.rows) {
      const counts = perSession.get(row.id) ?? { files: 0, bytes: 0 };
      totals.sessions += 1;
      totals.files += counts.files;
      totals.bytes += counts.bytes;
      await client.query(
        `INSERT INTO audit_log (project_id, actor_type, actor_label, action, target_type, target_id, details)
         VALUES ($1, 'system', 'retention', 'retention.delete', 'session', $2, $3::jsonb)`,
        [
          projectId,
          String(row.id),
          JSON.stringify({
            name: row.name,
            device: row.serial,
            started_at: row.started_at,
            files: counts.files,
            bytes: counts.bytes,
            rule: ruleId,
          }),
        ],
      );
    }
    if (ruleId) {
      await client.query(
        `UPDATE retention_rules SET deleted_sessions = deleted_sessions + $2, deleted_files = deleted_files + $3,
                deleted_bytes = deleted_bytes + $4, last_run_at = now(), last_error = NULL WHERE id = $1`,
        [ruleId, totals.sessions, totals.files, totals.bytes],
      );
    }
    return totals;
  });
  log.info({ project: projectId, rule: ruleId, ...removed }, "retention deleted sessions");
  return removed;
}

/** One batch of a store rule: deletes its objects and audits the ones deleted. Returns the objects deleted. */
async function deleteStoreBatch(deps: {
  pool: Pool;
  entry: TNamedStore;
  projectId: string;
  rule: TRule;
  batchSize: number;
  log: Logger;
}): Promise<TRetentionResult> {
  const { pool, entry, projectId, rule } = deps;
  const devices = await pool.query<{ serial: string }>("SELECT serial FROM devices WHERE project_id = $1", [projectId]);
  const candidates = await storeRetentionCandidates({
    store: entry.store,
    devices: devices.rows.map((row) => row.serial),
    days: rule.value,
    now: new Date(),
    limit: deps.batchSize,
  });
  if (candidates.length === 0) return { sessions: 0, files: 0, bytes: 0 };
  const deleted: typeof candidates = [];
  let failure: unknown = null;
  for (let start = 0; start < candidates.length; start += DELETE_CONCURRENCY) {
    const group = candidates.slice(start, start + DELETE_CONCURRENCY);
    const results = await Promise.allSettled(group.map((object) => entry.store.delete(object.key)));
    results.forEach((result, index) => (result.status === "fulfilled" ? deleted.push(group[index]!) : (failure ??= result.reason)));
    if (failure) break;
  }
  const bytes = deleted.reduce((sum, object) => sum + object.size, 0);
  if (deleted.length > 0) {
    // What was deleted is audited even when part of the batch failed.
    await withTransaction(pool, async (client) => {
      await client.query(
        `INSERT INTO audit_log (project_id, actor_type, actor_label, action, target_type, target_id, details)
         VALUES ($1, 'system', 'retention', 'retention.delete_objects', 'retention_rule', $2, $3::jsonb)`,
        [
          projectId,
          rule.id,
          JSON.stringify({
            store: entry.name,
            rule: rule.id,
            objects: deleted.map((object) => ({
              device: object.device,
              path: object.key.slice(object.device.length + 1),
              size: object.size,
            })),
            bytes,
          }),
        ],
      );
      await client.query(
        `UPDATE retention_rules SET deleted_files = deleted_files + $2, deleted_bytes = deleted_bytes + $3, last_run_at = now(),
                last_error = NULL WHERE id = $1`,
        [rule.id, deleted.length, bytes],
      );
    });
    deps.log.info(
      { project: projectId, rule: rule.id, store: entry.name, objects: deleted.length, bytes },
      "retention deleted store objects",
    );
  }
  if (failure) throw failure;
  return { sessions: 0, files: deleted.length, bytes };
}

/**
 * One run for one project: finishes marked sessions, then deletes what the active rules select,
 * batch by batch. Returns null when another worker is running this project.
 */
export async function runProjectRetention(deps: {
  pool: Pool;
  store: Store;
  /** The named stores, for rules that apply to one. */
  namedStores?: ReadonlyMap<string, TNamedStore>;
  projectId: string;
  batchSize: number;
  log: Logger;
  /** Test hook: called after a batch is marked, before its objects are deleted. */
  afterMark?: (sessionIds: number[]) => Promise<void>;
}): Promise<TRetentionResult | null> {
  const { pool, store, projectId, batchSize, log } = deps;
  const lock = await pool.connect();
  const total: TRetentionResult = { sessions: 0, files: 0, bytes: 0 };
  const add = (result: TRetentionResult) => {
    total.sessions += result.sessions;
    total.files += result.files;
    total.bytes += result.bytes;
  };
  try {
    const locked = await lock.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [
      ADVISORY_LOCK.retention,
      projectId,
    ]);
    if (!locked.rows[0]?.ok) return null;
    try {
      // Finish what an earlier run marked (it crashed, or it was stopped).
      for (;;) {
        const marked = await pool.query<{ id: number }>(
          "SELECT id FROM sessions WHERE project_id = $1 AND deleting_at IS NOT NULL ORDER BY id LIMIT $2",
          [projectId, batchSize],
        );
        if (marked.rows.length === 0) break;
        add(
          await finishSessions(
            pool,
            store,
            projectId,
            marked.rows.map((row) => row.id),
            null,
            log,
          ),
        );
      }
      for (;;) {
        // Read the rules again before every batch: a pause takes effect at the next batch.
        const rules = await activeRules(pool, projectId);
        let progressed = false;
        for (const rule of rules) {
          if (rule.store !== "") {
            const entry = deps.namedStores?.get(rule.store);
            try {
              if (!entry?.perDevice) throw new Error(`no per-device store named ${rule.store} is configured`);
              const result = await deleteStoreBatch({ pool, entry, projectId, rule, batchSize, log });
              if (result.files === 0) {
                await pool.query("UPDATE retention_rules SET last_run_at = now(), last_error = NULL WHERE id = $1", [rule.id]);
                continue;
              }
              progressed = true;
              add(result);
            } catch (error) {
              await recordRuleError(pool, rule.id, error);
              // A missing store stops this rule only; a storage failure ends the run, as for sessions.
              if (!entry?.perDevice) continue;
              throw error;
            }
            continue;
          }
          const candidates = retentionCandidatesQuery(projectId, rule, batchSize);
          const marked = await pool.query<{ id: number }>(
            `UPDATE sessions SET deleting_at = now() WHERE id IN (${candidates.text}) AND deleting_at IS NULL RETURNING id`,
            candidates.values,
          );
          const ids = marked.rows.map((row) => row.id);
          if (ids.length === 0) {
            await pool.query("UPDATE retention_rules SET last_run_at = now(), last_error = NULL WHERE id = $1", [rule.id]);
            continue;
          }
          progressed = true;
          await deps.afterMark?.(ids);
          try {
            add(await finishSessions(pool, store, projectId, ids, rule.id, log));
          } catch (error) {
            await recordRuleError(pool, rule.id, error);
            throw error;
          }
        }
        if (!progressed) break;
      }
      return total;
    } finally {
      await lock.query("SELECT pg_advisory_unlock($1, hashtext($2))", [ADVISORY_LOCK.retention, projectId]).catch(() => {});
    }
  } finally {
    lock.release();
  }
}

/** How long the webhook delivery log keeps an event once nothing about it is pending. */
export const WEBHOOK_LOG_DAYS = 30;

/** Every project with retention rules, one after the other; then the webhook log's old entries. */
export async function runRetention(deps: {
  pool: Pool;
  store: Store;
  namedStores?: ReadonlyMap<string, TNamedStore>;
  batchSize: number;
  log: Logger;
}): Promise<TRetentionResult> {
  const projects = await deps.pool.query<{ project_id: string }>(
    `SELECT DISTINCT project_id FROM retention_rules
     UNION SELECT DISTINCT project_id FROM sessions WHERE deleting_at IS NOT NULL`,
  );
  const total: TRetentionResult = { sessions: 0, files: 0, bytes: 0 };
  for (const { project_id: projectId } of projects.rows) {
    const result = await runProjectRetention({ ...deps, projectId });
    if (!result) continue;
    total.sessions += result.sessions;
    total.files += result.files;
    total.bytes += result.bytes;
  }
  // Deliveries and attempts go with their event (ON DELETE CASCADE).
  await deps.pool.query(
    `DELETE FROM webhook_events e WHERE e.created_at < now() - make_interval(days => $1)
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.state = 'pending')`,
    [WEBHOOK_LOG_DAYS],
  );
  return total;
}

/** Notes a rule's failure on the rule (shown in its list); a failure to note it changes nothing. */
async function recordRuleError(pool: Pool, ruleId: string, error: unknown): Promise<void> {
  await pool
    .query("UPDATE retention_rules SET last_error = $2, last_run_at = now() WHERE id = $1", [
      ruleId,
      (error as Error).message.slice(0, 500),
    ])
    .catch(() => {});
}
