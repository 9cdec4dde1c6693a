/** The SHA-256 of an object storage holds, by reading it once. */
import { createHash } from "node:crypto";
import type { Store } from "@fleetdrop/storage/store";

/**
 * Hex SHA-256 of the object's bytes, and the ETag of the version read; null when storage holds
 * no such object. `signal` stops the read (the promise rejects).
 */
export async function sha256OfObject(store: Store, key: string, signal?: AbortSignal): Promise<{ sha256: string; etag: string } | null> {
  const opened = await store.open(key);
  if (!opened) return null;
  const abort = () => opened.body.destroy(new Error("hashing stopped"));
  signal?.addEventListener("abort", abort, { once: true });
  try {
    if (signal?.aborted) abort();
    const hash = createHash("sha256");
    for await (const chunk of opened.body) hash.update(chunk as Buffer);
    return { sha256: hash.digest("hex"), etag: opened.info.etag };
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}
