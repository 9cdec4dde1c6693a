/**
 * The fs stores an endpoint serves, by bucket. Several named stores may share a bucket with
 * different prefixes (docs/protocol.md#stores); an upload or download belongs to the store whose access key
 * signed it and whose prefix is the longest one its key starts with.
 */
import path from "node:path";

import type { FsStore } from "./fs-store";

export type TStoreSecret = { secretAccessKey: string; region: string };

export class FsEndpointStores {
  readonly #byBucket = new Map<string, FsStore[]>();

  constructor(stores: Iterable<FsStore>) {
    for (const store of stores) {
      const list = this.#byBucket.get(store.bucket) ?? [];
      for (const other of list) assertCompatible(store, other);
      if (!list.includes(store)) list.push(store);
      // Longest prefix first, so the first match is the most specific store.
      list.sort((a, b) => b.prefix.length - a.prefix.length);
      this.#byBucket.set(store.bucket, list);
    }
  }

  has(bucket: string): boolean {
    return this.#byBucket.has(bucket);
  }

  /** The secret and region of an access key in a bucket, for signature checks. */
  lookup(bucket: string): (accessKeyId: string) => TStoreSecret | undefined {
    return (accessKeyId) => {
      const store = this.#byBucket.get(bucket)?.find((candidate) => candidate.accessKeyId === accessKeyId);
      return store && { secretAccessKey: store.secretAccessKey(), region: store.region };
    };
  }

  /** The store that owns `key` (a full key) for this access key, or undefined. */
  storeFor(bucket: string, accessKeyId: string, key: string): FsStore | undefined {
    return this.#byBucket.get(bucket)?.find((store) => store.accessKeyId === accessKeyId && key.startsWith(store.prefix));
  }

  all(): FsStore[] {
    return [...this.#byBucket.values()].flat();
  }
}

function assertCompatible(store: FsStore, other: FsStore): void {
  if (store === other) return;
  const where = `bucket ${JSON.stringify(store.bucket)}`;
  if (path.resolve(store.rootDir) !== path.resolve(other.rootDir)) {
    throw new Error(`two fs stores use ${where} with different rootDir (${other.rootDir}, ${store.rootDir}): one URL cannot serve both`);
  }
  if (store.prefix === other.prefix) {
    throw new Error(`two fs stores use ${where} with the same prefix ${JSON.stringify(store.prefix)}`);
  }
  if (store.accessKeyId === other.accessKeyId && (store.secretAccessKey() !== other.secretAccessKey() || store.region !== other.region)) {
    throw new Error(`fs stores of ${where} use access key ${store.accessKeyId} with different secrets or regions`);
  }
}
