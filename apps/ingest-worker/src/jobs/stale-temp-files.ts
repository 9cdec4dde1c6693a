/**
 * Removes upload temp files of the fs stores that nobody writes any more: an upload cut off by a
 * crash leaves its `.part` file in the bucket's tmp/ folder. "Nobody writes" is told by age: a
 * writer touches its temp file at least every TEMP_FILE_TOUCH_MS (the storage package's
 * fs-temp-file.ts), and a transfer's staging file is touched before the store renames it through
 * tmp/ (FileStaging.pathForAdoption), so a file untouched for much longer than that (at least a
 * minute, STALE_TEMP_FILE_SECONDS) has no writer in any worker sharing the folder.
 */
import type { Store } from "@fleetdrop/storage/store";
import type { Logger } from "../logger";

type TTempFileStore = Store & { removeStaleTempFiles(maxAgeMs: number): Promise<number> };

function hasTempFiles(store: Store): store is TTempFileStore {
  return typeof (store as Partial<TTempFileStore>).removeStaleTempFiles === "function";
}

export async function removeStaleTempFiles(stores: Iterable<Store>, maxAgeMs: number, log: Logger): Promise<number> {
  let removed = 0;
  for (const store of new Set(stores)) {
    if (hasTempFiles(store)) removed += await store.removeStaleTempFiles(maxAgeMs);
  }
  if (removed > 0) log.info({ removed }, "removed upload temp files nobody was writing (left by a crash)");
  return removed;
}
