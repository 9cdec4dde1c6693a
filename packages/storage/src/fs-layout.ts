/**
 * Where a filesystem bucket keeps things, under `rootDir/<bucket>/`:
 *   objects/<key>  the object's bytes, at its key's path (browsable with ordinary tools)
 *   meta/<key>     JSON metadata (content type, size, ETag, last modified): a separate tree,
 *                  so any key is allowed (no suffix that could collide or overflow NAME_MAX)
 *   tmp/           uploads in progress; renamed into objects/ when complete (same filesystem)
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";

import { assertObjectKey } from "./object-key";

export class FsBucketLayout {
  readonly bucketDir: string;
  readonly objectsDir: string;
  readonly metaDir: string;
  readonly tmpDir: string;
  #tmpReady: Promise<unknown> | undefined;

  constructor(rootDir: string, bucket: string) {
    this.bucketDir = path.resolve(rootDir, bucket);
    this.objectsDir = path.join(this.bucketDir, "objects");
    this.metaDir = path.join(this.bucketDir, "meta");
    this.tmpDir = path.join(this.bucketDir, "tmp");
  }

  objectPath(key: string): string {
    return this.#inside(this.objectsDir, key);
  }

  metaPath(key: string): string {
    return this.#inside(this.metaDir, key);
  }

  /** A fresh path in tmp/ (the folder is created on first use). */
  async newTempPath(): Promise<string> {
    this.#tmpReady ??= mkdir(this.tmpDir, { recursive: true }).catch((error: unknown) => {
      this.#tmpReady = undefined;
      throw error;
    });
    await this.#tmpReady;
    return path.join(this.tmpDir, `${randomUUID()}.part`);
  }

  /** The folder of a list prefix's folder part (`a/b/c` → objects/a/b). */
  folderPath(folderKey: string): string {
    return folderKey === "" ? this.objectsDir : this.#inside(this.objectsDir, folderKey);
  }

  #inside(base: string, key: string): string {
    assertObjectKey(key);
    const resolved = path.join(base, ...key.split("/"));
    // Defence in depth: a valid key cannot leave `base`, and this proves it for every call.
    if (!resolved.startsWith(base + path.sep)) throw new Error(`key ${JSON.stringify(key)} resolves outside the bucket`);
    return resolved;
  }
}
