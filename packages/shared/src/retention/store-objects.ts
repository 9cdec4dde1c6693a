/**
 * Which objects a retention rule for a named store deletes (docs/retention.md#rules-for-a-store):
 * in a per-device store, the objects in the folders of the project's devices last modified more
 * than N days ago. One function for the dashboard's preview and the worker's run, so a run
 * deletes what the preview listed (given the same objects). The store is any object listing
 * (`@fleetdrop/storage`'s Store), taken structurally so this package needs no storage client.
 */

export type TListedObject = { key: string; size: number; lastModified: Date };

export type TListableStore = {
  list(
    prefix: string,
    options?: { limit?: number; continuationToken?: string },
  ): Promise<{ objects: readonly TListedObject[]; nextToken?: string }>;
};

/** An object the rule deletes: its key in the store, and the device whose folder holds it. */
export type TStoreRetentionCandidate = { key: string; device: string; size: number; lastModified: Date };

/**
 * The objects of `devices`' folders (`<serial>/…`) in `store` last modified before `now` minus
 * `days` days, device by device in serial order and by key within a device, at most `limit`.
 */
export async function storeRetentionCandidates(options: {
  store: TListableStore;
  devices: readonly string[];
  days: number;
  now: Date;
  limit: number;
}): Promise<TStoreRetentionCandidate[]> {
  const cutoff = options.now.getTime() - options.days * 24 * 3600 * 1000;
  const found: TStoreRetentionCandidate[] = [];
  for (const device of options.devices.toSorted()) {
    let token: string | undefined;
    const inFolder: TStoreRetentionCandidate[] = [];
    do {
      const page = await options.store.list(`${device}/`, { limit: 1000, ...(token ? { continuationToken: token } : {}) });
      for (const object of page.objects) {
        if (object.lastModified.getTime() < cutoff)
          inFolder.push({ key: object.key, device, size: object.size, lastModified: object.lastModified });
      }
      token = page.nextToken;
    } while (token);
    found.push(...inFolder.toSorted((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
    if (found.length >= options.limit) break;
  }
  return found.slice(0, options.limit);
}
