/**
 * Named stores (docs/protocol.md#stores) in the worker, in one place: `file_download/request`, uploads into named stores
 * (`file_upload/request` with `store`, and their `file_upload/complete`), and what happens when
 * an object lands in a store. `createIngestWorker` calls `installStoreFeature` with its handler
 * table; session uploads keep their own handlers, reached through the dispatchers.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import type { TRequestKind } from "@fleetdrop/shared/topics";
import type { Store } from "@fleetdrop/storage/store";
import { createFileDownloadHandler } from "../handlers/file-download";
import { createStoreCompleteHandler } from "../handlers/store-complete";
import { createStoreUploadHandler } from "../handlers/store-upload";
import { createUploadCompleteDispatch, createUploadRequestDispatch } from "../handlers/upload-dispatch";
import type { Logger } from "../logger";
import type { THandler } from "../router";
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

export function installStoreFeature(handlers: Partial<Record<TRequestKind, THandler>>, deps: TStoreFeatureDeps) {
  const record = createStoreObjectRecorder({ pool: deps.pool, log: deps.log });
  const { uploadRequest, uploadComplete } = handlers;
  if (uploadRequest) {
    handlers.uploadRequest = createUploadRequestDispatch({
      session: uploadRequest,
      store: createStoreUploadHandler({ pool: deps.pool, stores: deps.stores, maxUploadMb: deps.maxUploadMb, expiresInSeconds: deps.uploadExpiresInSeconds }) as unknown as THandler,
    }) as unknown as THandler;
  }
  if (uploadComplete) {
    handlers.uploadComplete = createUploadCompleteDispatch({
      session: uploadComplete,
      store: createStoreCompleteHandler({ stores: deps.stores, record }) as unknown as THandler,
      isStoreKey: (key, deviceId) => parseSessionObjectKey(key) === null && storeOfObjectKey(deps.stores, deviceId, key) !== null,
    }) as unknown as THandler;
  }
  handlers.downloadRequest = createFileDownloadHandler({ pool: deps.pool, stores: deps.stores, expiresInSeconds: deps.downloadExpiresInSeconds }) as unknown as THandler;

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
