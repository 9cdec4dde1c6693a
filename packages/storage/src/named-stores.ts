/**
 * docs/protocol.md#stores: the named stores devices download from and report into (`config`, `apps`,
 * `incoming`, `contents`, `status`), from the JSON of `STORE_CONFIGURATION`:
 *
 *   [{"store_name": "config", "bucket_name": "fleet-config", "region": "eu-west-1", "prefix": "config",
 *     "backend": "s3", "endpoint": "https://minio:9000", "per_device": true, "device_access": "read"}, …]
 *
 * Without it every default store lives in the sessions store's bucket under a prefix of its own
 * name. Credentials and the fs settings come from the base settings (the app's environment),
 * never from the JSON. Every mistake is reported at start-up, one line each.
 */
import path from "node:path";
import { DEFAULT_PER_DEVICE_STORES, defaultStoreAccess, type TStoreAccess } from "@fleetdrop/shared/protocol/stores";
import { createStore, StoreConfigError, type TCreateStoreOptions, type TStoreConfigInput } from "./config";
import { LABEL, readStoreConfiguration } from "./named-stores-config";
import { normalizeStorePrefix } from "./object-key";
import type { Store } from "./store";

export type TNamedStore = {
  name: string;
  /** Paths resolve under `{prefix}/{D}/`. */
  perDevice: boolean;
  /** What devices may do with it. */
  deviceAccess: TStoreAccess;
  store: Store;
};

/** The settings every store shares, from the app's environment. */
export type TNamedStoreBase = {
  backend: "fs" | "s3";
  /** The sessions store's bucket (fs: its folder): the default bucket of every named store. */
  bucket: string;
  region: string;
  fs?: { rootDir: string; publicUrl: string; accessKeyId: string; secretAccessKey: string };
  s3?: { endpoint?: string; forcePathStyle?: boolean; accessKeyId?: string; secretAccessKey?: string };
};

/**
 * Parses STORE_CONFIGURATION (undefined or empty: the defaults) and creates the stores. Throws
 * StoreConfigError listing every problem.
 */
export function createNamedStores(
  json: string | undefined,
  base: TNamedStoreBase,
  options: { s3?: TCreateStoreOptions["s3"] } = {},
): Map<string, TNamedStore> {
  // Mistakes in the JSON and in the stores it describes are reported together, in list order.
  const read = readStoreConfiguration(json);
  const problems: { index: number; text: string }[] = read.problems.map((text) => ({
    index: Number(/^\[(\d+)\]/.exec(text)?.[1] ?? -1),
    text,
  }));
  const problem = (index: number, text: string) => problems.push({ index, text });
  const result = new Map<string, TNamedStore>();
  const places = new Map<string, string>();
  const names = new Set<string>();
  read.entries.forEach(({ index, entry }) => {
    const where = `[${index}] (${entry.store_name})`;
    if (names.has(entry.store_name)) {
      problem(index, `${where}: store_name "${entry.store_name}" is configured twice`);
      return;
    }
    names.add(entry.store_name);
    const backend = entry.backend ?? base.backend;
    const bucket = entry.bucket_name ?? base.bucket;
    let prefix: string;
    try {
      prefix = normalizeStorePrefix(entry.prefix ?? entry.store_name);
    } catch {
      problem(index, `${where}: prefix must be folder names separated by / (no empty, . or .. parts)`);
      return;
    }
    if (bucket === base.bucket && backend === base.backend && (prefix === "" || prefix.startsWith("sessions/"))) {
      problem(
        index,
        `${where}: prefix "${prefix}" would overlap the sessions store in bucket "${bucket}"; give the store a prefix of its own`,
      );
      return;
    }
    const place = `${backend}:${bucket}:${prefix}`;
    const clash = places.get(place);
    if (clash) {
      problem(index, `${where}: bucket "${bucket}" with prefix "${prefix}" is already used by store "${clash}"`);
      return;
    }
    places.set(place, entry.store_name);
    let config: TStoreConfigInput;
    if (backend === "fs") {
      if (!base.fs) {
        problem(index, `${where}: backend "fs" needs the fs settings (FS_STORE_DIR, FS_SECRET_ACCESS_KEY, FS_PUBLIC_URL)`);
        return;
      }
      if (entry.endpoint) problem(index, `${where}: endpoint is for s3 stores (an fs store is served at FS_PUBLIC_URL)`);
      config = {
        backend: "fs",
        bucket,
        rootDir: path.resolve(base.fs.rootDir),
        publicUrl: base.fs.publicUrl,
        accessKeyId: base.fs.accessKeyId,
        secretAccessKey: base.fs.secretAccessKey,
        region: entry.region ?? base.region,
        prefix,
      };
    } else {
      config = {
        backend: "s3",
        bucket,
        region: entry.region ?? base.region,
        prefix,
        ...((entry.endpoint ?? base.s3?.endpoint) ? { endpoint: entry.endpoint ?? base.s3?.endpoint } : {}),
        ...(base.s3?.forcePathStyle !== undefined ? { forcePathStyle: base.s3.forcePathStyle } : {}),
        ...(base.s3?.accessKeyId && base.s3.secretAccessKey
          ? { accessKeyId: base.s3.accessKeyId, secretAccessKey: base.s3.secretAccessKey }
          : {}),
      };
    }
    try {
      const store = createStore(config, { label: `store "${entry.store_name}"`, ...(options.s3 ? { s3: options.s3 } : {}) });
      result.set(entry.store_name, {
        name: entry.store_name,
        perDevice: entry.per_device ?? DEFAULT_PER_DEVICE_STORES.includes(entry.store_name),
        deviceAccess: entry.device_access ?? defaultStoreAccess(entry.store_name),
        store,
      });
    } catch (error) {
      if (error instanceof StoreConfigError) for (const text of error.problems) problem(index, `${where}: ${text}`);
      else throw error;
    }
  });
  if (problems.length > 0) {
    throw new StoreConfigError(
      LABEL,
      problems.sort((a, b) => a.index - b.index).map((entry) => entry.text),
    );
  }
  return result;
}

/** The fs stores among `stores` (for the upload/download endpoint). */
export function fsStoresOf(stores: Iterable<TNamedStore>): Store[] {
  return [...stores].map((entry) => entry.store).filter((store) => store.backend === "fs");
}
