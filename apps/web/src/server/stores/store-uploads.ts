import "server-only";
import type { TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { UserInputError } from "@/server/errors";
import { requireWrite, resolveStoreTarget, targetKey } from "./store-target";

/** Largest file the dashboard uploads into a store (one presigned POST). */
const MAX_STORE_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * A presigned POST form for a file the browser sends straight to storage (S3, or the fs
 * store's endpoint), so uploads of any size show real progress and never pass through the web
 * server. Replacing a file is uploading to its path again.
 */
export async function presignStoreUpload(options: {
  ctx: TProjectContext;
  store: string;
  device?: string | null;
  path: string;
  contentType: string;
  size: number;
}) {
  const target = await resolveStoreTarget(options);
  requireWrite(target);
  const key = targetKey(target, options.path);
  if (!Number.isSafeInteger(options.size) || options.size < 0 || options.size > MAX_STORE_UPLOAD_BYTES)
    throw new UserInputError("Files up to 5 GiB can be uploaded here", "file");
  const form = await target.entry.store.presignPost({
    key,
    contentType: options.contentType,
    maxBytes: Math.max(1, options.size),
    expiresIn: 3600,
  });
  return { url: form.url, fields: form.fields, key };
}

/** After the browser's upload: checks storage holds it and audits `store.put`. */
export async function confirmStoreUpload(options: { ctx: TProjectContext; store: string; device?: string | null; path: string }) {
  const target = await resolveStoreTarget(options);
  requireWrite(target);
  const key = targetKey(target, options.path);
  const info = await target.entry.store.head(key);
  if (!info) throw new UserInputError("Storage does not hold the file: the upload did not finish");
  await writeAudit(options.ctx, {
    action: "store.put",
    targetType: "store_object",
    targetId: `${target.entry.name}:${key}`,
    details: { store: target.entry.name, path: options.path, device: target.device, size: info.size, etag: info.etag },
  });
  return { size: info.size, etag: info.etag };
}

export async function deleteStoreObject(options: { ctx: TProjectContext; store: string; device?: string | null; path: string }) {
  const target = await resolveStoreTarget(options);
  requireWrite(target);
  const key = targetKey(target, options.path);
  await target.entry.store.delete(key);
  await writeAudit(options.ctx, {
    action: "store.delete",
    targetType: "store_object",
    targetId: `${target.entry.name}:${key}`,
    details: { store: target.entry.name, path: options.path, device: target.device },
  });
}

/** A short-lived signed GET for one object (admins), audited `store.get`. */
export async function storeObjectDownloadUrl(options: { ctx: TProjectContext; store: string; device?: string | null; path: string }) {
  const target = await resolveStoreTarget(options);
  const key = targetKey(target, options.path);
  const info = await target.entry.store.head(key);
  if (!info) throw new UserInputError("No such file in the store");
  const name = options.path.split("/").pop()!;
  const url = await target.entry.store.presignGet({ key, expiresIn: 60, downloadName: name, disposition: "attachment" });
  await writeAudit(options.ctx, {
    action: "store.get",
    targetType: "store_object",
    targetId: `${target.entry.name}:${key}`,
    details: { store: target.entry.name, path: options.path, device: target.device },
  });
  return url;
}
