/**
 * file_upload/request (docs/protocol.md#file_uploadrequest): issue a presigned POST form for a
 * file of one of the device's open sessions.
 */
import { ProtocolError } from "@fleetdrop/shared/errors";
import { MAX_SESSION_ID, sessionObjectKey } from "@fleetdrop/shared/names";
import { fileExistsError } from "@fleetdrop/shared/protocol/common";
import { MIB, normaliseUploadRequest } from "@fleetdrop/shared/protocol/upload";
import { InvalidObjectKeyError, type Store, type TPresignedPost } from "@fleetdrop/storage/store";
import type { Batcher } from "../batcher";
import type { TUploadOutcome, TUploadRow } from "../db/upload-requests";
import type { THandler } from "../router";

export type TUploadRequestDeps = {
  store: Store;
  batcher: Batcher<TUploadRow, TUploadOutcome>;
  maxUploadMb: number;
  expiresInSeconds: number;
};

export function createUploadRequestHandler(deps: TUploadRequestDeps): THandler<"uploadRequest"> {
  return {
    async handle(message, { deviceId }) {
      const request = normaliseUploadRequest(message, deps.maxUploadMb);
      if (request.sizeMb > deps.maxUploadMb) {
        throw new ProtocolError("file_too_large", `size_mb ${request.sizeMb} is above this platform's limit of ${deps.maxUploadMb} MB`);
      }
      // Ids beyond PostgreSQL's integer range cannot name an existing session.
      if (request.sessionId > MAX_SESSION_ID) throw new ProtocolError("session_not_found");

      const objectKey = sessionObjectKey(deviceId, request.sessionId, request.filename);
      // Signed before the file is recorded: a key storage refuses must leave no pending row.
      let form: TPresignedPost;
      try {
        form = await deps.store.presignPost({
          key: objectKey,
          contentType: request.contentType,
          maxBytes: request.sizeMb * MIB,
          expiresIn: deps.expiresInSeconds,
          ...(request.sha256 !== undefined ? { sha256: request.sha256 } : {}),
        });
      } catch (error) {
        if (error instanceof InvalidObjectKeyError)
          throw new ProtocolError("invalid_filename", `filename cannot be stored: ${error.message}`);
        throw error;
      }
      const outcome = await deps.batcher.submit({
        deviceId,
        sessionId: request.sessionId,
        filename: request.filename,
        objectKey,
        contentType: request.contentType,
        sizeLimit: request.sizeMb * MIB,
        requestId: request.requestId ?? null,
        overwrite: request.overwrite,
        arrivedVia: request.arrivedVia,
        expectedSha256: request.sha256 ?? null,
      });
      if (!outcome.ok) throw outcome.existing ? fileExistsError(outcome.existing) : new ProtocolError(outcome.code);
      return {
        url: form.url,
        fields: form.fields,
        object_key: objectKey,
        expires_in: form.expiresIn,
        file_id: outcome.fileId,
      };
    },
  };
}
