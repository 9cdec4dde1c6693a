/**
 * Every PostgreSQL advisory lock the platform takes, in one place, so that no two uses share a
 * key by accident. Two-key locks (`pg_advisory_lock(space, hashtext(id))`) name a space here and
 * an object id at the call; one-key locks are derived from their purpose and object.
 */
import { createHash } from "node:crypto";

export const ADVISORY_LOCK = {
  /** Building the migrated template that test databases are cloned from. */
  testTemplate: 727_001,
  /** Space: a device's active-transfer count and insert (key: the device's id). */
  transferCreate: 727_002,
  /** Space: one `fin` of a transfer at a time, across workers (key: the transfer's id). */
  transferFin: 727_003,
  /** Space: one retention run per project at a time, across workers (key: the project's id). */
  retention: 727_004,
  /**
   * Space: a webhook lane's writers and its reader (key: the lane, a device's id or `project`).
   * Taken in SQL (fleetdrop_enqueue_event shared, fleetdrop_webhook_next exclusive): the literal
   * there must stay equal to this.
   */
  webhookLane: 727_005,
  /** Space: one transfer `fin` storing into a session file at a time, across workers (key: its object key). */
  transferObject: 727_006,
  /**
   * Space: a device's chunk lanes' writers and their reader (key: the device's id). Taken in SQL
   * by the reader (fleetdrop_chunk_next, exclusive): the literal there must stay equal to this.
   */
  chunkLane: 727_007,
} as const;

/** A 64-bit key for pg_advisory_xact_lock: one project's device CA. */
export function projectCaLockKey(projectId: string): bigint {
  return createHash("sha256").update(`fleetdrop-device-ca:${projectId}`).digest().readBigInt64BE(0);
}
