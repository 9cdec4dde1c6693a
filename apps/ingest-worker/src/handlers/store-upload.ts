/**
 * Store uploads (docs/protocol.md#store-uploads): the file_upload/request with `store` instead of `session_id`. The form
 * pins `{prefix}/{D}/{filename}` in per-device stores (`{prefix}/{filename}` in shared ones), the
 * content type and the size, like a session upload. A store upload replaces the object (stores
 * hold the current config, status report, …), so there is no `file_exists` here.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { DEFAULT_CONTENT_TYPE } from "@fleetdrop/shared/names";
import { MIB } from "@fleetdrop/shared/protocol/upload";
import type { THandler } from "../router";
import type { TNamedStores } from "../stores/named-stores";
import { resolveStorePath } from "./store-access";

export type TStoreUploadDeps = { pool: Pool; stores: TNamedStores; maxUploadMb: number; expiresInSeconds: number };

export function createStoreUploadHandler(deps: TStoreUploadDeps): THandler<"storeUpload"> {
  return {
    async handle(message, { deviceId }) {
      const sizeMb = message.size_mb ?? deps.maxUploadMb;
      if (sizeMb > deps.maxUploadMb) {
        throw new ProtocolError("file_too_large", `size_mb ${sizeMb} is above this platform's limit of ${deps.maxUploadMb} MB`);
      }
      const { entry, key, objectKey } = await resolveStorePath(deps, {
        deviceId,
        store: message.store,
        path: message.filename,
        access: "write",
      });
      const form = await entry.store.presignPost({
        key,
        contentType: message.content_type ?? DEFAULT_CONTENT_TYPE,
        maxBytes: sizeMb * MIB,
        expiresIn: deps.expiresInSeconds,
      });
      return {
        url: form.url,
        fields: form.fields,
        object_key: objectKey,
        expires_in: form.expiresIn,
        store: entry.name,
        path: message.filename,
      };
    },
  };
}
