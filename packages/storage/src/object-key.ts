/**
 * Object keys and store prefixes. Callers (the worker) already build keys from validated names;
 * these checks are defence in depth, so that no key can ever leave a bucket's folder on disk.
 */
import { utf8Length } from "@fleetdrop/shared/names";

import { InvalidObjectKeyError } from "./store";

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;
/** NAME_MAX of Linux filesystems: one folder or file name on disk. */
export const MAX_KEY_SEGMENT_BYTES = 255;

/** S3 replaces this variable in a form's `key` field with the uploaded file's name. */
const FILENAME_VARIABLE = "${filename}";

/**
 * Why `key` cannot be stored, or null. Refuses what could escape a folder or that a filesystem
 * cannot hold: empty keys, a leading `/`, `\`, NUL, empty/`.`/`..` segments, over-long keys or
 * segments.
 */
export function objectKeyProblem(key: string): string | null {
  if (key.length === 0) return "a key must not be empty";
  if (utf8Length(key) > MAX_OBJECT_KEY_BYTES) return `a key must be at most ${MAX_OBJECT_KEY_BYTES} bytes`;
  if (key.startsWith("/")) return "a key must not start with /";
  if (key.includes("\\")) return "a key must not contain \\";
  if (key.includes("\u0000")) return "a key must not contain NUL";
  for (const segment of key.split("/")) {
    if (segment === "") return "a key must not contain an empty segment (// or a trailing /)";
    if (segment === "." || segment === "..") return "a key must not contain . or .. segments";
    if (utf8Length(segment) > MAX_KEY_SEGMENT_BYTES) {
      return `each /-separated part of a key must be at most ${MAX_KEY_SEGMENT_BYTES} bytes`;
    }
  }
  return null;
}

export function assertObjectKey(key: string): void {
  const problem = objectKeyProblem(key);
  if (problem) throw new InvalidObjectKeyError(key, problem);
}

/**
 * The key a store keeps `key` under: its prefix (normalised, see normalizeStorePrefix) + key,
 * checked. Without a prefix the two are the same string and it is checked once (this runs for
 * every upload form the worker signs).
 */
export function storedObjectKey(prefix: string, key: string): string {
  assertObjectKey(key);
  if (prefix === "") return key;
  const stored = prefix + key;
  assertObjectKey(stored);
  return stored;
}

/** A (checked) key for an upload form must not contain `${filename}`: S3 would not pin it exactly. */
export function assertNoFilenameVariable(key: string): void {
  if (key.includes(FILENAME_VARIABLE)) {
    throw new InvalidObjectKeyError(key, "a form key must not contain ${filename}: S3 would replace it with the uploaded file's name");
  }
}

/**
 * A store prefix as configured (`config`, `config/`, `/a/b/`) in its stored form: `""` or
 * segments joined by `/` with a trailing `/` (`config/`). Throws on unusable segments.
 */
export function normalizeStorePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  const problem = objectKeyProblem(trimmed);
  if (problem) throw new Error(`invalid store prefix ${JSON.stringify(prefix)}: ${problem.replace("a key", "a prefix")}`);
  return `${trimmed}/`;
}

/**
 * A list prefix: any string, but it must not contain NUL or `\`, and its folder part (up to the
 * last `/`) must not contain empty, `.` or `..` segments. The part after the last `/` only
 * filters names (`logs/sys` matches `logs/system.log`).
 */
export function listPrefixProblem(prefix: string): string | null {
  if (prefix.includes("\u0000")) return "a list prefix must not contain NUL";
  if (prefix.includes("\\")) return "a list prefix must not contain \\";
  if (prefix.startsWith("/")) return "a list prefix must not start with /";
  if (utf8Length(prefix) > MAX_OBJECT_KEY_BYTES) return `a list prefix must be at most ${MAX_OBJECT_KEY_BYTES} bytes`;
  const folders = prefix.split("/").slice(0, -1);
  for (const segment of folders) {
    if (segment === "" || segment === "." || segment === "..") {
      return "a list prefix must not contain empty, . or .. folder names";
    }
  }
  return null;
}
