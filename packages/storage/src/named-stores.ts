/**
 * Spec §4: the named stores devices download from and report into (`config`, `apps`,
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
import {
  DEFAULT_PER_DEVICE_STORES,
  DEFAULT_STORE_NAMES,
  defaultStoreAccess,
  STORE_ACCESS,
  STORE_NAME_PATTERN,
  type TStoreAccess,
} from "@fleetdrop/shared/protocol/stores";
import { z } from "zod";
import { createStore, StoreConfigError, type TCreateStoreOptions, type TStoreConfigInput } from "./config";
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

const ZEntrySchema = z.strictObject(
  {
    store_name: z
      .string({ error: "store_name is required, e.g. \"config\"" })
      .regex(STORE_NAME_PATTERN, { error: "store_name must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter" }),
    bucket_name: z.string({ error: "bucket_name must be a string" }).min(1, { error: "bucket_name must not be empty" }).optional(),
    region: z.string({ error: "region must be a string such as \"us-east-1\"" }).optional(),
    prefix: z.string({ error: "prefix must be a string such as \"config\"" }).optional(),
    backend: z.enum(["s3", "fs"], { error: "backend must be \"s3\" or \"fs\"" }).optional(),
    endpoint: z.url({ protocol: /^https?$/, error: "endpoint must be an http:// or https:// URL, e.g. https://minio:9000" }).optional(),
    per_device: z.boolean({ error: "per_device must be true or false" }).optional(),
    device_access: z.enum(STORE_ACCESS, { error: "device_access must be \"read\", \"write\" or \"read-write\"" }).optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown setting(s): ${issue.keys.join(", ")}` : undefined) },
);

type TEntry = z.infer<typeof ZEntrySchema>;

const LABEL = "STORE_CONFIGURATION";

/**
 * Parses STORE_CONFIGURATION (undefined or empty: the defaults) and creates the stores. Throws
 * StoreConfigError listing every problem.
 */
export function createNamedStores(json: string | undefined, base: TNamedStoreBase, options: { s3?: TCreateStoreOptions["s3"] } = {}): Map<string, TNamedStore> {
  const entries = parseEntries(json);
  const problems: string[] = [];
  const result = new Map<string, TNamedStore>();
  const places = new Map<string, string>();
  entries.forEach((entry, index) => {
    const where = `[${index}] (${entry.store_name})`;
    if (result.has(entry.store_name)) {
      problems.push(`${where}: store_name "${entry.store_name}" is configured twice`);
      return;
    }
    const backend = entry.backend ?? base.backend;
    const bucket = entry.bucket_name ?? base.bucket;
    let prefix: string;
    try {
      prefix = normalizeStorePrefix(entry.prefix ?? entry.store_name);
    } catch {
      problems.push(`${where}: prefix must be folder names separated by / (no empty, . or .. parts)`);
      return;
    }
    if (bucket === base.bucket && backend === base.backend && (prefix === "" || prefix.startsWith("sessions/"))) {
      problems.push(`${where}: prefix "${prefix}" would overlap the sessions store in bucket "${bucket}"; give the store a prefix of its own`);
      return;
    }
    const place = `${backend}:${bucket}:${prefix}`;
    const clash = places.get(place);
    if (clash) {
      problems.push(`${where}: bucket "${bucket}" with prefix "${prefix}" is already used by store "${clash}"`);
      return;
    }
    places.set(place, entry.store_name);
    let config: TStoreConfigInput;
    if (backend === "fs") {
      if (!base.fs) {
        problems.push(`${where}: backend "fs" needs the fs settings (FS_STORE_DIR, FS_SECRET_ACCESS_KEY, FS_PUBLIC_URL)`);
        return;
      }
      if (entry.endpoint) problems.push(`${where}: endpoint is for s3 stores (an fs store is served at FS_PUBLIC_URL)`);
      config = { backend: "fs", bucket, rootDir: path.resolve(base.fs.rootDir), publicUrl: base.fs.publicUrl, accessKeyId: base.fs.accessKeyId, secretAccessKey: base.fs.secretAccessKey, region: entry.region ?? base.region, prefix };
    } else {
      config = {
        backend: "s3",
        bucket,
        region: entry.region ?? base.region,
        prefix,
        ...(entry.endpoint ?? base.s3?.endpoint ? { endpoint: entry.endpoint ?? base.s3?.endpoint } : {}),
        ...(base.s3?.forcePathStyle !== undefined ? { forcePathStyle: base.s3.forcePathStyle } : {}),
        ...(base.s3?.accessKeyId && base.s3.secretAccessKey ? { accessKeyId: base.s3.accessKeyId, secretAccessKey: base.s3.secretAccessKey } : {}),
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
      if (error instanceof StoreConfigError) problems.push(...error.problems.map((problem) => `${where}: ${problem}`));
      else throw error;
    }
  });
  if (problems.length > 0) throw new StoreConfigError(LABEL, problems);
  return result;
}

function parseEntries(json: string | undefined): TEntry[] {
  if (json === undefined || json.trim() === "") {
    return DEFAULT_STORE_NAMES.map((name) => ({ store_name: name }));
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new StoreConfigError(LABEL, [`not valid JSON (${(error as Error).message}); expected an array of {"store_name", "bucket_name", "region", "prefix"}`]);
  }
  if (!Array.isArray(value)) {
    throw new StoreConfigError(LABEL, ['must be a JSON array of stores, e.g. [{"store_name": "config", "bucket_name": "fleet", "region": "us-east-1", "prefix": "config"}]']);
  }
  if (value.length === 0) throw new StoreConfigError(LABEL, ["must list at least one store (leave it unset for the defaults)"]);
  const problems: string[] = [];
  const entries: TEntry[] = [];
  value.forEach((item, index) => {
    const parsed = ZEntrySchema.safeParse(item);
    if (parsed.success) {
      entries.push(parsed.data);
      return;
    }
    const name = typeof (item as { store_name?: unknown })?.store_name === "string" ? ` (${(item as { store_name: string }).store_name})` : "";
    for (const issue of parsed.error.issues) {
      problems.push(`[${index}]${name}${issue.path.length ? ` ${issue.path.join(".")}` : ""}: ${issue.message}`);
    }
  });
  if (problems.length > 0) throw new StoreConfigError(LABEL, problems);
  return entries;
}

/** The fs stores among `stores` (for the upload/download endpoint). */
export function fsStoresOf(stores: Iterable<TNamedStore>): Store[] {
  return [...stores].map((entry) => entry.store).filter((store) => store.backend === "fs");
}
