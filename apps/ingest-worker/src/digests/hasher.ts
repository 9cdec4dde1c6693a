/**
 * Computes, after the fact, the SHA-256 of uploaded files whose storage did not report one (S3
 * for a form without a checksum, a multipart upload without `sha256`), apart from every answer
 * to a device. The queue is the database: recording such a file sets `files.sha256_due_at`, and
 * each worker claims due files a few at a time (FOR UPDATE SKIP LOCKED, the claim moving
 * `sha256_due_at` CLAIM_SECONDS ahead), reads each object once and writes its digest, only if the
 * file is still the same `uploaded` version (same ETag). A worker that dies mid-read leaves its
 * claims due again CLAIM_SECONDS later, for any worker. A failure to read (the object gone,
 * storage refusing) clears the file's due time and is logged: its sha256 stays null (the file
 * page says so), and the upload itself is never touched.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { StorageUnavailableError, type Store } from "@fleetdrop/storage/store";
import type { Logger } from "../logger";
import { sha256OfObject } from "./object-sha256";

export type TObjectHasher = {
  /** Looks for due files every POLL_MS from now on (files left by a crash, or recorded by other workers). */
  start(): void;
  /** Looks for due files now (after recording one); returns at once. */
  poke(): void;
  /** Hashes every file due now, and resolves when none is left or running (tests, `hashNow`). */
  drain(): Promise<void>;
  /** Stops looking, and stops the reads in progress (their files are due again after the claim). */
  close(): Promise<void>;
};

export const HASH_CONCURRENCY = 2;
/** How long a claimed file waits before another worker may take it (its worker died meanwhile). */
export const CLAIM_SECONDS = 15 * 60;
const POLL_MS = 30_000;

type TClaimed = { id: string; object_key: string; etag: string | null; sha256_due_at: Date };

export function createObjectHasher(deps: { pool: Pool; store: Store; log: Logger; concurrency?: number }): TObjectHasher {
  const concurrency = deps.concurrency ?? HASH_CONCURRENCY;
  const running = new Set<Promise<void>>();
  const stop = new AbortController();
  let claiming: Promise<number> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const hashOne = async (file: TClaimed): Promise<void> => {
    // Clears this claim only: a file recorded again since carries a due time of its own.
    const release = (sha256: string | null) =>
      deps.pool.query(
        `UPDATE files SET sha256 = CASE WHEN state = 'uploaded' AND etag = $3 AND sha256 IS NULL THEN $2 ELSE sha256 END,
                          sha256_due_at = NULL
         WHERE id = $1 AND sha256_due_at = $4`,
        [file.id, sha256, file.etag, file.sha256_due_at],
      );
    try {
      const found = await sha256OfObject(deps.store, file.object_key, stop.signal);
      // Gone, or replaced since it was recorded: that version's digest is not this file's.
      await release(found && found.etag === file.etag ? found.sha256 : null);
      if (!found) deps.log.warn({ key: file.object_key, file: file.id }, "an uploaded file's object is gone; its SHA-256 stays unknown");
    } catch (error) {
      if (stop.signal.aborted) return;
      if (error instanceof StorageUnavailableError) {
        // Storage is down: the claim runs out and the file is hashed then.
        deps.log.warn({ err: error, key: file.object_key, file: file.id }, "storage did not answer; hashing this file later");
        return;
      }
      deps.log.warn({ err: error, key: file.object_key, file: file.id }, "could not compute an uploaded file's SHA-256; it stays unknown");
      await release(null).catch(() => {});
    }
  };

  /** Claims what the free slots can take and starts hashing it; resolves to how many were claimed. */
  const claim = async (): Promise<number> => {
    const free = concurrency - running.size;
    if (free <= 0 || stop.signal.aborted) return 0;
    const claimed = await deps.pool.query<TClaimed>(
      `UPDATE files SET sha256_due_at = now() + $2 * interval '1 second'
       WHERE id IN (SELECT id FROM files WHERE sha256_due_at <= now() ORDER BY sha256_due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, object_key, etag, sha256_due_at`,
      [free, CLAIM_SECONDS],
    );
    for (const file of claimed.rows) {
      const task = hashOne(file).finally(() => {
        running.delete(task);
        void pump();
      });
      running.add(task);
    }
    return claimed.rows.length;
  };

  const pump = (): Promise<number> => {
    if (claiming || stop.signal.aborted) return claiming ?? Promise.resolve(0);
    claiming = claim()
      .catch((error: unknown) => {
        deps.log.warn({ err: error }, "could not look for files whose SHA-256 is due; trying again later");
        return 0;
      })
      .finally(() => {
        claiming = null;
      });
    return claiming;
  };

  return {
    start() {
      if (timer || stop.signal.aborted) return;
      timer = setInterval(() => void pump(), POLL_MS);
      timer.unref();
      void pump();
    },
    poke() {
      void pump();
    },
    async drain() {
      for (;;) {
        await pump();
        if (running.size === 0) {
          if ((await pump()) === 0 && running.size === 0) return;
          continue;
        }
        await Promise.race(running);
      }
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
      stop.abort();
      await claiming;
      await Promise.all(running);
    },
  };
}
