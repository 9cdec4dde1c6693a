/**
 * The SHA-256 of a form upload when it is recorded (file_upload/complete, the fs endpoint's
 * report, the pending sweeper). Storage's own digest is taken when it has one (the fs store
 * always; S3 for a form that carried a checksum). Otherwise, when the request gave a SHA-256
 * the object is read once and hashed before the file is recorded, so that a store which ignores
 * the form's checksum fields cannot make other bytes `uploaded`; when it gave none, the file is
 * recorded at once and the hasher computes the digest afterwards.
 */
import type { Store } from "@fleetdrop/storage/store";
import { recordStoredObject, type TMarkedFile, type TQueryable, type TStoredObject } from "../db/files";
import type { Logger } from "../logger";
import type { TObjectHasher } from "./hasher";
import { discardMismatchedObject } from "./mismatch";
import { sha256OfObject } from "./object-sha256";

export type TFormDigestDeps = { store: Store; hasher?: TObjectHasher; log?: Logger };

/**
 * The digest to record with the object: `reported` (storage's), else the worker's own reading
 * when `expected` is to be checked, else null (computed later).
 */
export async function digestToRecord(
  store: Store,
  objectKey: string,
  reported: string | undefined,
  expected: string | null,
): Promise<string | null> {
  if (reported !== undefined) return reported;
  if (expected === null) return null;
  return (await sha256OfObject(store, objectKey))?.sha256 ?? null;
}

/**
 * Records what storage holds for a session form upload with its SHA-256 (recordStoredObject).
 * `mismatch`: the request gave another SHA-256; the object was deleted and the file is `failed`.
 */
export async function recordFormUpload(
  db: TQueryable,
  deps: TFormDigestDeps,
  object: Omit<TStoredObject, "sha256">,
  digest: { reported: string | undefined; expected: string | null },
  via: "device" | "storage",
): Promise<{ marked: TMarkedFile | null; mismatch: boolean }> {
  const sha256 = await digestToRecord(deps.store, object.objectKey, digest.reported, digest.expected);
  const marked = await recordStoredObject(db, { ...object, sha256 }, deps.log ? { via, log: deps.log } : { via });
  if (marked?.digestMismatch) {
    deps.log?.warn(
      { key: object.objectKey, file: marked.fileId, sha256 },
      "storage holds other bytes than the SHA-256 the device gave: discarded",
    );
    await discardMismatchedObject(db, deps.store, marked.fileId, object.objectKey);
    return { marked, mismatch: true };
  }
  // Recorded as due for the hasher (recordStoredObject): it need not wait for its next look.
  if (marked?.changed && sha256 === null) deps.hasher?.poke();
  return { marked, mismatch: false };
}
