/**
 * An object's metadata file. It records the object file's inode and mtime, so that a reader
 * can tell metadata that belongs to another version of the file (a commit in progress, or a
 * crash between the two renames) from the real thing.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export type TFsObjectMeta = {
  v: 1;
  size: number;
  /** Quoted MD5 hex, as S3 returns it (a quoted SHA-256 for an adopted file: TAdoptedFile). */
  etag: string;
  contentType: string;
  /** SHA-256 hex of the bytes, when they were hashed on the way in (absent in rebuilt metadata). */
  sha256?: string;
  /** ISO-8601 */
  lastModified: string;
  ino: number;
  mtimeMs: number;
};

export async function readMeta(metaPath: string): Promise<TFsObjectMeta | null> {
  let text: string;
  try {
    text = await readFile(metaPath, "utf8");
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  try {
    const meta = JSON.parse(text) as Partial<TFsObjectMeta>;
    if (meta.v !== 1 || typeof meta.size !== "number" || typeof meta.etag !== "string") return null;
    return meta as TFsObjectMeta;
  } catch {
    return null; // unreadable metadata is rebuilt from the object
  }
}

/** Writes the metadata atomically (temp file + rename in the same folder). */
export async function writeMeta(metaPath: string, meta: TFsObjectMeta): Promise<void> {
  await mkdir(path.dirname(metaPath), { recursive: true });
  const temp = `${metaPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(meta));
    await rename(temp, metaPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** ENOENT, or ENOTDIR (a path component is a file: `a/b` when `a` is an object). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
