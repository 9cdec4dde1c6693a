/**
 * The application's say over an upload the fs endpoint is about to store. A signed form proves
 * what the form allows (key, size, type, expiry), not whether it is still wanted: the worker
 * answers from its database that a form is used once and dies with its session. Asked when the
 * file part starts (so a refused upload is not read) and again under the key's lock just before
 * the file is renamed into place (so two uploads racing with one form cannot both land).
 */
import type { FsStore } from "./fs-store";
import { S3ProtocolError } from "./s3-protocol-error";
import type { TObjectInfo } from "./store";

export type TUploadAdmission = {
  store: FsStore;
  bucket: string;
  /** Relative to the store's prefix, as the Store API uses keys. */
  key: string;
  /** What the key holds now (key relative too), or null. */
  existing: TObjectInfo | null;
};

/** A refusal, answered as an S3 error: 403 AccessDenied, 409 or 412 PreconditionFailed. */
export type TUploadRefusal = { status: 403 | 409 | 412; code: string; message: string };

/** Resolves null to let the upload through; throwing answers 503 (the device retries). */
export type TAdmitUpload = (request: TUploadAdmission) => Promise<TUploadRefusal | null>;

/** Throws the S3 error the endpoint answers when `admit` refuses or cannot decide. */
export async function checkAdmission(
  admit: TAdmitUpload,
  store: FsStore,
  bucket: string,
  storedKey: string,
  existing: TObjectInfo | null,
): Promise<void> {
  const key = storedKey.slice(store.prefix.length);
  let refusal: TUploadRefusal | null;
  try {
    refusal = await admit({ store, bucket, key, existing: existing && { ...existing, key: existing.key.slice(store.prefix.length) } });
  } catch (error) {
    throw new AdmissionUnavailableError(error);
  }
  if (refusal) throw new S3ProtocolError(refusal.status, refusal.code, refusal.message, { Key: storedKey });
}

/** The application could not answer (its database is down): the upload is refused, retryably. */
export class AdmissionUnavailableError extends S3ProtocolError {
  constructor(cause: unknown) {
    super(503, "ServiceUnavailable", "The upload cannot be checked right now. Please try again.");
    this.cause = cause;
  }
}
