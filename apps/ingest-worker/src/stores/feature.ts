/**
 * Named stores (docs/protocol.md#stores) in the worker, in one place: `file_download/request`, uploads into named stores
 * (`storeUpload`, and their `file_upload/complete`), and what happens when an object lands in a
 * store. `createIngestWorker` calls `installStoreFeature` with its handlers; session completions
 * keep their own handler, reached through the dispatcher.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import type { Store } from "@fleetdrop/storage/store";
import { createFileDownloadHandler } from "../handlers/file-download";
import { createStoreCompleteHandler } from "../handlers/store-complete";
import { createStoreUploadHandler } from "../handlers/store-upload";
import { createUploadCompleteDispatch } from "../handlers/upload-dispatch";
import type { Logger } from "../logger";
import type { THandlers } from "../router";
import { storeOfObjectKey, type TNamedStores } from "./named-stores";
import { createStoreObjectRecorder } from "./store-objects";

export type TStoreFeatureDeps = {
  pool: Pool;
  stores: TNamedStores;
  maxUploadMb: number;
  uploadExpiresInSeconds: number;
  downloadExpiresInSeconds: number;
  log: Logger;
};

export function installStoreFeature(handlers: THandlers, deps: TStoreFeatureDeps) {
  const record = createStoreObjectRecorder({ pool: deps.pool, log: deps.log });
  handlers.storeUpload = createStoreUploadHandler({
    pool: deps.pool,
    stores: deps.stores,
    maxUploadMb: deps.maxUploadMb,
    expiresInSeconds: deps.uploadExpiresInSeconds,
  });
  const { uploadComplete } = handlers;
  if (uploadComplete) {
    handlers.uploadComplete = createUploadCompleteDispatch({
      session: uploadComplete,
      store: createStoreCompleteHandler({ stores: deps.stores, record }),
      isStoreKey: (key, deviceId) => parseSessionObjectKey(key) === null && storeOfObjectKey(deps.stores, deviceId, key) !== null,
    });
  }
  handlers.downloadRequest = createFileDownloadHandler({
    pool: deps.pool,
    stores: deps.stores,
    expiresInSeconds: deps.downloadExpiresInSeconds,
  });

  return {
    /**
     * Handles an object the fs endpoint stored if it belongs to a named store (returns true);
     * false leaves it to the sessions store's handling.
     */
    async onObjectStored(event: { store?: Store; key: string; size: number; etag: string; contentType?: string }): Promise<boolean> {
      if (!event.store) return false;
      const entry = [...deps.stores.values()].find((candidate) => candidate.store === event.store);
      if (!entry) return false;
      await record({ entry, key: event.key, size: event.size, etag: event.etag, contentType: event.contentType });
      return true;
    },
  };
}
