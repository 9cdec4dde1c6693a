/**
 * Store configuration, validated with zod, and `createStore`. Operators see these messages at
 * start-up, so each one names the setting and says what a valid value looks like. Secrets are
 * never echoed.
 */
import path from "node:path";

import { z } from "zod";

import { StoreConfigError } from "./config-error";
import { FsStore } from "./fs-store";
import { normalizeStorePrefix } from "./object-key";
import { S3Store } from "./s3-store";
import type { TS3StoreExtras } from "./s3-store";
import type { Store } from "./store";

const prefixSchema = z
  .string({ error: 'prefix must be a string such as "config" or "config/"' })
  .refine(
    (value) => {
      try {
        normalizeStorePrefix(value);
        return true;
      } catch {
        return false;
      }
    },
    { error: "prefix must be folder names separated by / (no empty, . or .. parts, no \\ or NUL)" },
  )
  .optional();

const regionSchema = z
  .string({ error: 'region must be a string such as "us-east-1"' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'region must be a name such as "us-east-1" (letters, digits, . _ -)' });

/** An access key id cannot contain `/`: it is the first part of the SigV4 credential. */
const accessKeyIdSchema = z
  .string({ error: "accessKeyId must be a string" })
  .regex(/^[^\s/]{1,128}$/, { error: "accessKeyId must be 1 to 128 characters without spaces or /" });

export const ZS3StoreConfigSchema = z
  .strictObject(
    {
      backend: z.literal("s3"),
      bucket: z.string({ error: "bucket is required: the name of the S3 bucket" }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/, {
        error: "bucket must be an S3 bucket name (3 to 255 letters, digits, . _ -; lower-case for new buckets)",
      }),
      region: regionSchema,
      endpoint: z.url({ protocol: /^https?$/, error: "endpoint must be an http:// or https:// URL, e.g. http://minio:9000" }).optional(),
      forcePathStyle: z.boolean({ error: "forcePathStyle must be true or false" }).optional(),
      accessKeyId: accessKeyIdSchema.optional(),
      secretAccessKey: z
        .string({ error: "secretAccessKey must be a string" })
        .min(1, { error: "secretAccessKey must not be empty" })
        .optional(),
      sessionToken: z.string({ error: "sessionToken must be a string" }).min(1, { error: "sessionToken must not be empty" }).optional(),
      prefix: prefixSchema,
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown setting(s) for an s3 store: ${issue.keys.join(", ")}` : undefined) },
  )
  .superRefine((config, ctx) => {
    if ((config.accessKeyId === undefined) !== (config.secretAccessKey === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [config.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey"],
        message: "accessKeyId and secretAccessKey go together: set both, or neither to use the AWS default credential chain",
      });
    }
    if (config.sessionToken !== undefined && config.accessKeyId === undefined) {
      ctx.addIssue({ code: "custom", path: ["sessionToken"], message: "sessionToken needs accessKeyId and secretAccessKey" });
    }
  });

export const ZFsStoreConfigSchema = z.strictObject(
  {
    backend: z.literal("fs"),
    bucket: z
      .string({ error: "bucket is required: the folder name of this store under rootDir" })
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: "bucket must be 3 to 63 lower-case letters, digits, . or - (an S3-style bucket name; it is a folder and a URL part)",
      })
      .refine((value) => !value.includes(".."), { error: "bucket must not contain .." }),
    rootDir: z
      .string({ error: "rootDir is required: the absolute folder that holds the store's data" })
      .refine((value) => path.isAbsolute(value), { error: "rootDir must be an absolute path, e.g. /var/lib/fleetdrop/storage" }),
    publicUrl: z
      .url({
        protocol: /^https?$/,
        error: "publicUrl must be an http:// or https:// URL that devices can reach, e.g. http://192.168.1.5:9000",
      })
      .refine(
        (value) => {
          const url = new URL(value);
          return (url.pathname === "/" || url.pathname === "") && url.search === "" && url.hash === "" && url.username === "";
        },
        { error: "publicUrl must be an origin only (scheme://host[:port]): uploads go to <publicUrl>/fs/<bucket>" },
      ),
    accessKeyId: accessKeyIdSchema,
    secretAccessKey: z
      .string({ error: "secretAccessKey is required: it signs upload forms and download URLs" })
      .min(16, { error: "secretAccessKey must be at least 16 characters (it is what keeps upload forms from being forged)" }),
    region: regionSchema.default("us-east-1"),
    prefix: prefixSchema,
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown setting(s) for an fs store: ${issue.keys.join(", ")}` : undefined) },
);

export const ZStoreConfigSchema = z.discriminatedUnion("backend", [ZS3StoreConfigSchema, ZFsStoreConfigSchema], {
  error: (issue) => (issue.code === "invalid_union" || issue.code === "invalid_type" ? 'backend must be "s3" or "fs"' : undefined),
});

export type TS3StoreConfig = z.infer<typeof ZS3StoreConfigSchema>;
export type TFsStoreConfig = z.infer<typeof ZFsStoreConfigSchema>;
export type TStoreConfig = z.infer<typeof ZStoreConfigSchema>;

/**
 * An s3 store config as callers write it (validated by createStore). Readonly, so that `as
 * const` literals select the typed createStore overload (overloads are first matched by the
 * subtype relation, where readonly properties do not fit mutable ones).
 */
export type TS3StoreConfigInput = Readonly<{
  backend: "s3";
  bucket: string;
  region: string;
  /** An S3-compatible service, e.g. `http://minio:9000`. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** With secretAccessKey; without both, the AWS SDK's default credential chain applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Prepended to every key (`config` → `config/`). */
  prefix?: string;
}>;

/** An fs store config as callers write it (validated by createStore). */
export type TFsStoreConfigInput = Readonly<{
  backend: "fs";
  /** The folder under rootDir, and the URL part: forms post to `${publicUrl}/fs/${bucket}`. */
  bucket: string;
  /** Absolute. */
  rootDir: string;
  /** The origin devices reach the endpoint at, e.g. `http://192.168.1.5:9000`. */
  publicUrl: string;
  accessKeyId: string;
  /** At least 16 characters: it signs every form and download URL. */
  secretAccessKey: string;
  /** Default `us-east-1`; part of the signature scope. */
  region?: string;
  prefix?: string;
}>;

export type TStoreConfigInput = TS3StoreConfigInput | TFsStoreConfigInput;

// The hand-written input types must stay assignable to what the schemas accept.
type TAssignable<A, B> = [A] extends [B] ? true : false;
const inputTypesMatchSchemas: [
  TAssignable<TS3StoreConfigInput, z.input<typeof ZS3StoreConfigSchema>>,
  TAssignable<TFsStoreConfigInput, z.input<typeof ZFsStoreConfigSchema>>,
] = [true, true];
// oxlint-disable-next-line typescript/no-meaningless-void-operator -- marks the compile-time check above as used; it has no run-time part
void inputTypesMatchSchemas;

// Lives in its own module so that code checking configuration need not load the backends.
export { StoreConfigError };

/** Validates a store config; `label` names it in the message (e.g. `store "config"`). */
export function parseStoreConfig(input: unknown, label = ""): TStoreConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new StoreConfigError(label, ['the store configuration must be an object with a backend of "s3" or "fs"']);
  }
  const result = ZStoreConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return `${where}${issue.message}`;
  });
  throw new StoreConfigError(label, problems);
}

export type TCreateStoreOptions = {
  /** Names the store in error messages. */
  label?: string;
  /** S3 only: timeouts and client hooks. */
  s3?: TS3StoreExtras;
};

/**
 * Validates `config` (throwing StoreConfigError with every problem, values are checked even
 * when the type fits) and creates its store: an FsStore or S3Store for a config of that
 * backend. For untyped input (parsed JSON) use `createStore(parseStoreConfig(json, label))`.
 *
 * No `unknown` overload: TypeScript first matches overloads by the subtype relation, where a
 * literal that omits an optional setting does not fit, so a catch-all would always win.
 */
export function createStore(config: TFsStoreConfigInput, options?: TCreateStoreOptions): FsStore;
export function createStore(config: TS3StoreConfigInput, options?: TCreateStoreOptions): S3Store;
export function createStore(config: TStoreConfigInput, options?: TCreateStoreOptions): Store;
export function createStore(config: TStoreConfigInput, options: TCreateStoreOptions = {}): Store {
  const parsed = parseStoreConfig(config, options.label);
  if (parsed.backend === "fs") return new FsStore(parsed);
  return new S3Store(parsed, options.s3);
}
