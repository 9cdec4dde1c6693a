/**
 * The JSON of `STORE_CONFIGURATION` (docs/protocol.md#stores), checked without creating any store: the web
 * app's env validation uses it (so `next start` refuses a bad value), `createNamedStores` builds
 * on it.
 */
import { DEFAULT_STORE_NAMES, STORE_ACCESS, STORE_NAME_PATTERN } from "@fleetdrop/shared/protocol/stores";
import { z } from "zod";

export const LABEL = "STORE_CONFIGURATION";

export const ZStoreEntrySchema = z.strictObject(
  {
    store_name: z
      .string({ error: 'store_name is required, e.g. "config"' })
      .regex(STORE_NAME_PATTERN, { error: "store_name must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter" }),
    bucket_name: z.string({ error: "bucket_name must be a string" }).min(1, { error: "bucket_name must not be empty" }).optional(),
    region: z.string({ error: 'region must be a string such as "us-east-1"' }).optional(),
    prefix: z.string({ error: 'prefix must be a string such as "config"' }).optional(),
    backend: z.enum(["s3", "fs"], { error: 'backend must be "s3" or "fs"' }).optional(),
    endpoint: z.url({ protocol: /^https?$/, error: "endpoint must be an http:// or https:// URL, e.g. https://minio:9000" }).optional(),
    per_device: z.boolean({ error: "per_device must be true or false" }).optional(),
    device_access: z.enum(STORE_ACCESS, { error: 'device_access must be "read", "write" or "read-write"' }).optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown setting(s): ${issue.keys.join(", ")}` : undefined) },
);

export type TStoreEntry = z.infer<typeof ZStoreEntrySchema>;

export type TReadStoreConfiguration = { entries: { index: number; entry: TStoreEntry }[]; problems: string[] };

/**
 * Reads STORE_CONFIGURATION (undefined or empty: the five defaults): the entries that are valid
 * (with their position in the list) and a sentence per problem of the others.
 */
export function readStoreConfiguration(json: string | undefined): TReadStoreConfiguration {
  if (json === undefined || json.trim() === "") {
    return { entries: DEFAULT_STORE_NAMES.map((name, index) => ({ index, entry: { store_name: name } })), problems: [] };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return {
      entries: [],
      problems: [`not valid JSON (${(error as Error).message}); expected an array of {"store_name", "bucket_name", "region", "prefix"}`],
    };
  }
  if (!Array.isArray(value)) {
    return {
      entries: [],
      problems: [
        "must be a JSON array of stores, e.g. " +
          '[{"store_name": "config", "bucket_name": "fleet", "region": "us-east-1", "prefix": "config"}]',
      ],
    };
  }
  if (value.length === 0) return { entries: [], problems: ["must list at least one store (leave it unset for the defaults)"] };
  const problems: string[] = [];
  const entries: TReadStoreConfiguration["entries"] = [];
  value.forEach((item, index) => {
    const parsed = ZStoreEntrySchema.safeParse(item);
    if (parsed.success) {
      entries.push({ index, entry: parsed.data });
      return;
    }
    const name =
      typeof (item as { store_name?: unknown })?.store_name === "string" ? ` (${(item as { store_name: string }).store_name})` : "";
    for (const issue of parsed.error.issues) {
      problems.push(`[${index}]${name}${issue.path.length ? ` ${issue.path.join(".")}` : ""}: ${issue.message}`);
    }
  });
  return { entries, problems };
}

/** The problems of a STORE_CONFIGURATION value, one sentence each (empty: usable). */
export function storeConfigurationProblems(json: string | undefined): string[] {
  return readStoreConfiguration(json).problems;
}
