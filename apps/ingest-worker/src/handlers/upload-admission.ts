/**
 * The fs endpoint asks this before it stores a session upload (fs-upload-admission.ts in the
 * storage package): a presigned form is good for one upload, into an open session. The form's
 * signature cannot say that; the files table can:
 * - the file's row is `pending` while its form is outstanding, and becomes `uploaded` when the
 *   endpoint reports the upload (before it answers the device), so a second POST of the same
 *   form finds `uploaded` and is refused — unless the device asked for a form with
 *   `overwrite: true`, which sets the row back to `pending`;
 * - two POSTs of one form racing each other: the second is checked under the key's lock after
 *   the first was renamed into place, and finds an object newer than the form's row;
 * - a session closed since the form was issued takes no more uploads.
 * Keys outside the sessions store (named stores, docs/protocol.md#stores) are not this handler's business.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { parseSessionObjectKey } from "@fleetdrop/shared/names";
import type { TAdmitUpload, TUploadRefusal } from "@fleetdrop/storage/fs-upload-endpoint";
import type { Store } from "@fleetdrop/storage/store";
import { findUploadTarget } from "../db/files";

const FORM_USED: TUploadRefusal = {
  status: 412,
  code: "PreconditionFailed",
  message: "This form was already used: the file is uploaded. Ask for a new form with overwrite to replace it.",
};

export function createUploadAdmission(deps: { pool: Pool; sessionStore: Store }): TAdmitUpload {
  return async ({ store, key, existing }) => {
    if (store !== deps.sessionStore) return null;
    const parsed = parseSessionObjectKey(key);
    if (!parsed) return { status: 403, code: "AccessDenied", message: "No upload form is outstanding for this key." };
    const target = await findUploadTarget(deps.pool, parsed);
    if (!target) return { status: 403, code: "AccessDenied", message: "No upload form is outstanding for this key." };
    if (target.sessionState !== "open") {
      return { status: 403, code: "AccessDenied", message: "The session was closed: its upload forms are void." };
    }
    if (target.state === "uploaded") return FORM_USED;
    if (target.state !== "pending")
      return { status: 403, code: "AccessDenied", message: "This form is no longer valid: ask for a new one." };
    if (existing && existing.lastModified.getTime() >= target.issuedAt.getTime()) return FORM_USED;
    return null;
  };
}
