/**
 * Walks objects/ in the order S3 lists keys: UTF-8 byte order of the whole key. A folder `a` is
 * ordered as `a/` among its siblings, because every key inside it starts with `a/` (so `a-c`
 * comes before `a/b`, as in S3). Folders entirely before the continuation key are skipped
 * without being read.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";

import { isMissing } from "./fs-metadata";

type TEntry = { name: string; sortKey: Buffer; isDirectory: boolean };

export type TWalkOptions = {
  objectsDir: string;
  /** Keys must start with this. */
  prefix: string;
  /** Only keys strictly after this one (the continuation token). */
  startAfter?: string;
};

/** Yields keys in S3 order; stops when the consumer stops. */
export async function* walkKeys(options: TWalkOptions): AsyncGenerator<string> {
  const { prefix } = options;
  const cut = prefix.lastIndexOf("/");
  const folder = cut === -1 ? "" : prefix.slice(0, cut); // the deepest folder the prefix names
  const startAfter = options.startAfter === undefined ? undefined : Buffer.from(options.startAfter, "utf8");
  const dir = folder === "" ? options.objectsDir : path.join(options.objectsDir, ...folder.split("/"));
  yield* walkFolder(dir, folder === "" ? "" : `${folder}/`, prefix, startAfter);
}

async function* walkFolder(dir: string, keyBase: string, prefix: string, startAfter: Buffer | undefined): AsyncGenerator<string> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  const entries: TEntry[] = [];
  for (const dirent of dirents) {
    const isDirectory = dirent.isDirectory();
    if (!isDirectory && !dirent.isFile()) continue;
    const key = keyBase + dirent.name;
    const keyOrFolder = isDirectory ? `${key}/` : key;
    // The entry can only hold matches if it starts with the prefix or the prefix runs into it.
    if (!keyOrFolder.startsWith(prefix) && !prefix.startsWith(keyOrFolder)) continue;
    entries.push({ name: dirent.name, sortKey: Buffer.from(keyOrFolder, "utf8"), isDirectory });
  }
  entries.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));

  for (const entry of entries) {
    const key = keyBase + entry.name;
    if (entry.isDirectory) {
      // Everything inside starts with `key/`; skip the folder when all of it is <= startAfter.
      if (startAfter !== undefined && Buffer.compare(entry.sortKey, startAfter) < 0 && !startsWithBytes(startAfter, entry.sortKey)) {
        continue;
      }
      yield* walkFolder(path.join(dir, entry.name), `${key}/`, prefix, startAfter);
    } else {
      if (!key.startsWith(prefix)) continue;
      if (startAfter !== undefined && Buffer.compare(entry.sortKey, startAfter) <= 0) continue;
      yield key;
    }
  }
}

function startsWithBytes(value: Buffer, start: Buffer): boolean {
  return value.length >= start.length && value.subarray(0, start.length).equals(start);
}
