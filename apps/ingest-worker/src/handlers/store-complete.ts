/**
 * `file_upload/complete` for an object of a named store: the worker asks the store (it believes
 * storage, not the device) and records the object as it does for the fs endpoint's own event.
 */
import { ProtocolError } from "@fleetdrop/shared/errors";
import type { THandler } from "../router";
import { storeOfObjectKey, type TNamedStores } from "../stores/named-stores";
import type { TRecordStoreObject } from "../stores/store-objects";

export function createStoreCompleteHandler(deps: { stores: TNamedStores; record: TRecordStoreObject }): THandler<"uploadComplete"> {
  return {
    async handle({ object_key: objectKey }, { deviceId }) {
      const found = storeOfObjectKey(deps.stores, deviceId, objectKey);
      if (!found || !found.entry.deviceAccess.includes("write")) {
        throw new ProtocolError("invalid_object_key", "object_key must be a key issued to this device");
      }
      const info = await found.entry.store.head(found.key);
      if (!info) throw new ProtocolError("upload_not_found_in_storage");
      await deps.record({ entry: found.entry, key: found.key, size: info.size, etag: info.etag, contentType: info.contentType });
      return { object_key: objectKey, state: "uploaded", size: info.size, etag: info.etag, store: found.entry.name, path: found.path };
    },
  };
}
