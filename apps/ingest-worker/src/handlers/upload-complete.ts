/**
 * file_upload/complete (docs/protocol.md#file_uploadcomplete): a device may report that its upload finished. The worker believes
 * storage, not the device: it asks storage for the object before recording it as uploaded.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { ProtocolError } from "@fleetdrop/shared/errors";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import type { Store } from "@fleetdrop/storage/store";
import { findFileOfDevice, recordStoredObject } from "../db/files";
import { recordFormUpload } from "../digests/form-digest";
import type { TObjectHasher } from "../digests/hasher";
import type { Logger } from "../logger";
import type { TWorkerMetrics } from "../metrics";
import type { THandler } from "../router";

export function createUploadCompleteHandler(deps: {
  pool: Pool;
  store: Store;
  metrics: TWorkerMetrics;
  log?: Logger;
  /** Computes the SHA-256 of a file storage reported none for. */
  hasher?: TObjectHasher;
}): THandler<"uploadComplete"> {
  return {
    async handle({ object_key: objectKey }, { deviceId }) {
      const parsed = parseSessionObjectKey(objectKey);
      if (!parsed || parsed.deviceId !== deviceId) {
        throw new ProtocolError(
          "invalid_object_key",
          `object_key must be a key issued to this device: sessions/${deviceId}/{session_id}/{filename}`,
        );
      }
      const file = await findFileOfDevice(deps.pool, deviceId, parsed.sessionId, parsed.filename);
      if (!file) throw new ProtocolError("file_not_found", "No upload form was issued for this object_key");
      const info = await deps.store.head(objectKey);
      if (file.state === "uploaded") {
        // Reported again: storage is asked anyway, so that bytes replaced since (a form used
        // twice on S3) are noticed and audited. The answer is what was recorded.
        if (info && (info.etag !== file.etag || info.size !== file.size)) {
          await recordStoredObject(
            deps.pool,
            { ...parsed, objectKey, size: info.size, etag: info.etag, contentType: info.contentType },
            { via: "device", log: deps.log },
          );
        }
        return {
          object_key: objectKey,
          file_id: file.id,
          state: "uploaded",
          size: file.size ?? 0,
          ...(file.etag ? { etag: file.etag } : {}),
        };
      }
      if (!info || info.lastModified.getTime() < file.issuedAt.getTime() - 5000) {
        throw new ProtocolError("upload_not_found_in_storage");
      }
      const { marked, mismatch } = await recordFormUpload(
        deps.pool,
        deps,
        { ...parsed, objectKey, size: info.size, etag: info.etag, contentType: info.contentType },
        { reported: info.sha256, expected: file.expectedSha256 },
        "device",
      );
      if (mismatch)
        throw new ProtocolError("checksum_mismatch", "The stored file's SHA-256 is not the sha256 of the request; it was deleted");
      if (marked?.changed) deps.metrics.filesCompleted.inc({ state: "uploaded", via: "device" });
      return { object_key: objectKey, file_id: file.id, state: "uploaded", size: info.size, etag: info.etag };
    },
  };
}
