/**
 * Computes, after the fact, the SHA-256 of uploaded files whose storage did not report one (S3
 * for a form without a checksum, a multipart upload without `sha256`): each object is read once,
 * a few at a time, apart from every answer to a device. A failure leaves the file's sha256 null
 * and is logged; it never touches the upload. The digest is written only if the file is still
 * the same `uploaded` version (same ETag) and has no digest yet.
 *
 * The queue lives in memory: what a crash or a stop drops keeps sha256 null (the file shows
 * "not computed").
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";
import type { Logger } from "../logger";
import { sha256OfObject } from "./object-sha256";

export type THashJob = { fileId: string; objectKey: string; etag: string };

export type TObjectHasher = {
  /** Queues the file; returns at once. Beyond the queue's bound the job is dropped and logged. */
  enqueue(job: THashJob): void;
  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void>;
  /** Drops the queue and stops the reads in progress. */
  close(): Promise<void>;
};

export const HASH_CONCURRENCY = 2;
const MAX_QUEUED = 10_000;

export function createObjectHasher(deps: { pool: Pool; store: Store; log: Logger; concurrency?: number }): TObjectHasher {
  const concurrency = deps.concurrency ?? HASH_CONCURRENCY;
  const queue: THashJob[] = [];
  const running = new Set<Promise<void>>();
  const stop = new AbortController();
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (queue.length > 0 || running.size > 0) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  };

  const hashOne = async (job: THashJob): Promise<void> => {
    try {
      const found = await sha256OfObject(deps.store, job.objectKey, stop.signal);
      // Gone, or replaced since it was recorded: that version's digest is not this file's.
      if (!found || found.etag !== job.etag) return;
      await deps.pool.query(`UPDATE files SET sha256 = $2 WHERE id = $1 AND state = 'uploaded' AND etag = $3 AND sha256 IS NULL`, [
        job.fileId,
        found.sha256,
        job.etag,
      ]);
    } catch (error) {
      if (stop.signal.aborted) return;
      deps.log.warn({ err: error, key: job.objectKey, file: job.fileId }, "could not compute an uploaded file's SHA-256; it stays unknown");
    }
  };

  const pump = () => {
    while (running.size < concurrency && queue.length > 0 && !stop.signal.aborted) {
      const task = hashOne(queue.shift()!).finally(() => {
        running.delete(task);
        pump();
        settleIdle();
      });
      running.add(task);
    }
  };

  return {
    enqueue(job) {
      if (stop.signal.aborted) return;
      if (queue.length >= MAX_QUEUED) {
        deps.log.warn({ key: job.objectKey, file: job.fileId }, "too many files waiting for their SHA-256; this one stays unknown");
        return;
      }
      queue.push(job);
      pump();
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    async close() {
      queue.length = 0;
      stop.abort();
      await Promise.all(running);
      settleIdle();
    },
  };
}
