/**
 * file_download/request (docs/protocol.md#file_downloadrequest): `P/fleet/D/file_download/request`
 * `{store, path}` → a presigned GET (s3) or the fs store's signed URL, with size and ETag. Per-device stores resolve `path` under
 * `{prefix}/{D}/`, so a device only ever reads its own folder there. Every download is audited
 * (`store.download`, actor: the device) so the dashboard can show who fetched what, when.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { auditDeviceAction } from "../db/audit";
import type { THandler } from "../router";
import type { TNamedStores } from "../stores/named-stores";
import { resolveStorePath } from "./store-access";

export type TFileDownloadDeps = { pool: Pool; stores: TNamedStores; expiresInSeconds: number };

export function createFileDownloadHandler(deps: TFileDownloadDeps): THandler<"downloadRequest"> {
  return {
    async handle(message, { deviceId, requestId, log }) {
      const { device, entry, key, objectKey } = await resolveStorePath(deps, {
        deviceId,
        store: message.store,
        path: message.path,
        access: "read",
      });
      const info = await entry.store.head(key);
      if (!info)
        throw new ProtocolError(
          "object_not_found",
          `The "${entry.name}" store holds nothing at ${JSON.stringify(message.path)}${entry.perDevice ? " for this device" : ""}`,
        );
      const url = await entry.store.presignGet({ key, expiresIn: deps.expiresInSeconds });
      await auditDeviceAction(deps.pool, {
        projectId: device.projectId,
        deviceId,
        action: "store.download",
        targetType: "store_object",
        targetId: `${entry.name}:${key}`,
        details: { store: entry.name, path: message.path, key, size: info.size, etag: info.etag, ...(requestId ? { requestId } : {}) },
      }).catch((error: unknown) => log.warn({ err: error }, "download not audited"));
      return {
        url,
        expires_in: deps.expiresInSeconds,
        size: info.size,
        etag: info.etag,
        store: entry.name,
        path: message.path,
        object_key: objectKey,
        ...(info.contentType ? { content_type: info.contentType } : {}),
        last_modified: info.lastModified.toISOString(),
      };
    },
  };
}
