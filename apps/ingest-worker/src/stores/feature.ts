/**
 * Named stores (docs/protocol.md#stores) in the worker, in one place: `file_download/request`, uploads into named stores
 * (`storeUpload`, and their `file_upload/complete`), and what happens when an object lands in a
 * store. `file_upload/complete` is one operation for session files and store objects: the uploads
 * feature answers it, and hands the completions of store objects (`completion.isStoreKey`) to
 * `completion.handler`.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import type { Store } from "@fleetdrop/storage/store";
import { createFileDownloadHandler } from "../handlers/file-download";
import { createStoreCompleteHandler } from "../handlers/store-complete";
import { createStoreUploadHandler } from "../handlers/store-upload";
import type { Logger } from "../logger";
import type { TWorkerFeature } from "../feature";
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

export type TStoreCompletion = {
  handler: THandler<"uploadComplete">;
  isStoreKey: (objectKey: string, deviceId: string) => boolean;
};

export type TStoreFeature = TWorkerFeature & {
  /** `file_upload/complete` of store objects (the uploads feature dispatches to it). */
  readonly completion: TStoreCompletion;
  /**
   * Handles an object the fs endpoint stored if it belongs to a named store (returns true);
   * false leaves it to the sessions store's handling.
   */
  onObjectStored(event: { store?: Store; key: string; size: number; etag: string; contentType?: string }): Promise<boolean>;
};

export function createStoreFeature(deps: TStoreFeatureDeps): TStoreFeature {
  const record = createStoreObjectRecorder({ pool: deps.pool, log: deps.log });
  return {
    name: "stores",
    handlers: {
      storeUpload: createStoreUploadHandler({
        pool: deps.pool,
        stores: deps.stores,
        maxUploadMb: deps.maxUploadMb,
        expiresInSeconds: deps.uploadExpiresInSeconds,
      }),
      downloadRequest: createFileDownloadHandler({
        pool: deps.pool,
        stores: deps.stores,
        expiresInSeconds: deps.downloadExpiresInSeconds,
      }),
    },
    completion: {
      handler: createStoreCompleteHandler({ stores: deps.stores, record }),
      isStoreKey: (key, deviceId) => parseSessionObjectKey(key) === null && storeOfObjectKey(deps.stores, deviceId, key) !== null,
    },
    async onObjectStored(event) {
      if (!event.store) return false;
      const entry = [...deps.stores.values()].find((candidate) => candidate.store === event.store);
      if (!entry) return false;
      await record({ entry, key: event.key, size: event.size, etag: event.etag, contentType: event.contentType });
      return true;
    },
  };
}
