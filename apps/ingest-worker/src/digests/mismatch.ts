/** What happens to an object whose bytes are not the ones a device announced (multipart and form uploads alike). */
import type { Store } from "@fleetdrop/storage/store";
import type { TQueryable } from "../db/files";

/**
 * Nothing is kept of a file that is not the one announced: the object is deleted and the file
 * becomes `failed` (unless it is `uploaded`: then it names other bytes, which stay). Safe to run
 * again after a crash in between: the delete of a missing object is no error.
 */
export async function discardMismatchedObject(db: TQueryable, store: Store, fileId: string, objectKey: string): Promise<void> {
  await store.delete(objectKey);
  await db.query(`UPDATE files SET state = 'failed', updated_at = now() WHERE id = $1 AND state <> 'uploaded'`, [fileId]);
}
