import "server-only";
import type { Store } from "@fleetdrop/storage/store";

/**
 * Deletes stored objects a few at a time. Failures are counted, not thrown: the database rows
 * are already gone, and a left-over object is harmless (and listed for a retry in the log).
 */
export async function deleteObjects(store: Store, keys: string[], concurrency = 8): Promise<{ deleted: number; failed: string[] }> {
  const failed: string[] = [];
  let next = 0;
  let deleted = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      try {
        await store.delete(key);
        deleted++;
      } catch {
        failed.push(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return { deleted, failed };
}
