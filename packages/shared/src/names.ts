/**
 * Naming rules of the device protocol (docs/protocol.md#names): device ids, file names and the object
 * keys built from them. Every side (worker, web, device SDK, tests) uses these, so a rule
 * lives in exactly one place.
 */

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidDeviceId(value: unknown): value is string {
  return typeof value === "string" && DEVICE_ID_PATTERN.test(value);
}

export const MAX_FILENAME_BYTES = 255;

/** C0 controls, DEL and C1 controls. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Invisible characters that change how a name reads without being seen: every format character
 * (Unicode category Cf: the bidi embeddings, overrides and isolates U+202A–202E and U+2066–2069,
 * the marks U+200E, U+200F and U+061C, zero-width spaces, U+FEFF, tags…) except the joiners
 * U+200C/U+200D that some scripts and emoji need; the line and paragraph separators; lone
 * surrogates (not text: storage would keep U+FFFD instead of the name given).
 * `invoice\u202egpj.exe` displays as "invoiceexe.jpg": a name must read as what it is.
 */
const INVISIBLE_CHARACTERS = /(?![\u200c\u200d])[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/**
 * `${…}`: S3's POST Object replaces `${filename}` in a form's key with the name of the uploaded
 * file, so such a name would let the uploader choose the key. Refused in any form.
 */
const TEMPLATE_SEQUENCE = "${";

export type TFilenameProblem =
  | "empty"
  | "too_long"
  | "leading_slash"
  | "backslash"
  | "control_character"
  | "invisible_character"
  | "template_sequence"
  | "empty_segment"
  | "dot_segment";

const FILENAME_PROBLEM_TEXT: Record<TFilenameProblem, string> = {
  empty: "filename must not be empty",
  too_long: `filename must be at most ${MAX_FILENAME_BYTES} bytes`,
  leading_slash: "filename must not start with /",
  backslash: "filename must not contain \\",
  control_character: "filename must not contain control characters",
  invisible_character: "filename must not contain invisible or direction-changing characters (such as U+202E or U+200B)",
  template_sequence: "filename must not contain ${",
  empty_segment: "filename must not contain an empty folder name (// or a trailing /)",
  dot_segment: "filename must not contain . or .. as a folder or file name",
};

/**
 * The form every file name is stored and compared in: Unicode NFC, so that the composed and the
 * decomposed spelling of one name (`é` as U+00E9, or `e` + U+0301) are the same file. Apply it
 * before {@link filenameProblem} (normalising can change the length).
 */
export function normaliseFilename(name: string): string {
  return name.normalize("NFC");
}

/**
 * Checks a file name as a device sends it (`logs/system.log`), after {@link normaliseFilename}.
 * Returns the first problem, or null when the name is acceptable. A valid name can never leave
 * the session's folder, and reads as what it is.
 */
export function filenameProblem(name: string): TFilenameProblem | null {
  if (name.length === 0) return "empty";
  if (utf8Length(name) > MAX_FILENAME_BYTES) return "too_long";
  if (name.startsWith("/")) return "leading_slash";
  if (name.includes("\\")) return "backslash";
  if (CONTROL_CHARACTERS.test(name)) return "control_character";
  if (INVISIBLE_CHARACTERS.test(name)) return "invisible_character";
  if (name.includes(TEMPLATE_SEQUENCE)) return "template_sequence";
  for (const segment of name.split("/")) {
    if (segment === "") return "empty_segment";
    if (segment === "." || segment === "..") return "dot_segment";
  }
  return null;
}

export function describeFilenameProblem(problem: TFilenameProblem): string {
  return FILENAME_PROBLEM_TEXT[problem];
}

export function isValidFilename(name: unknown): name is string {
  return typeof name === "string" && filenameProblem(name) === null;
}

/**
 * The folders a name lies in, outermost first: `a/b/c.txt` → `a`, `a/b`. Within one session a
 * name cannot be both a file and such a folder of another file (`a` and `a/b.txt`): storage that
 * keeps files in folders cannot hold both, and on S3 the two would read as one path.
 */
export function filenameFolders(name: string): string[] {
  const folders: string[] = [];
  for (let at = name.indexOf("/"); at !== -1; at = name.indexOf("/", at + 1)) folders.push(name.slice(0, at));
  return folders;
}

/** True when one of the two names is a folder the other lies in (see {@link filenameFolders}). */
export function filenamesClash(a: string, b: string): boolean {
  return (b.length > a.length && b.startsWith(a) && b[a.length] === "/") || (a.length > b.length && a.startsWith(b) && a[b.length] === "/");
}

/** Largest value PostgreSQL's `integer` holds; session ids above it cannot exist. */
export const MAX_SESSION_ID = 2_147_483_647;

export const SESSION_KEY_ROOT = "sessions";

/** `sessions/{device}/{session}/` — the only folder a device's session uploads may land in. */
export function sessionKeyPrefix(deviceId: string, sessionId: number): string {
  assertDeviceId(deviceId);
  assertSessionId(sessionId);
  return `${SESSION_KEY_ROOT}/${deviceId}/${sessionId}/`;
}

/** `sessions/{device}/{session}/{filename}`; throws on anything that could escape the folder. */
export function sessionObjectKey(deviceId: string, sessionId: number, filename: string): string {
  const problem = filenameProblem(filename);
  if (problem) throw new Error(describeFilenameProblem(problem));
  return sessionKeyPrefix(deviceId, sessionId) + filename;
}

export type TSessionObjectKey = { deviceId: string; sessionId: number; filename: string };

/** The inverse of {@link sessionObjectKey}; null for anything that is not such a key. */
export function parseSessionObjectKey(key: string): TSessionObjectKey | null {
  const match = /^sessions\/([^/]+)\/([1-9][0-9]{0,9})\/(.+)$/s.exec(key);
  if (!match) return null;
  const [, deviceId, session, filename] = match as unknown as [string, string, string, string];
  const sessionId = Number(session);
  if (!isValidDeviceId(deviceId) || sessionId > MAX_SESSION_ID || !isValidFilename(filename)) {
    return null;
  }
  return { deviceId, sessionId, filename };
}

function assertDeviceId(deviceId: string): void {
  if (!isValidDeviceId(deviceId)) throw new Error(`invalid device id: ${JSON.stringify(deviceId)}`);
}

function assertSessionId(sessionId: number): void {
  if (!Number.isSafeInteger(sessionId) || sessionId < 1 || sessionId > MAX_SESSION_ID) {
    throw new Error(`invalid session id: ${sessionId}`);
  }
}

/**
 * `type/subtype` with optional `; name=value` parameters (RFC 6838 restricted names). The
 * policy pins the exact string, so the device must send it back verbatim.
 */
const MEDIA_TYPE_PATTERN = new RegExp(
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/.source +
    // oxlint-disable-next-line no-control-regex -- a quoted parameter value may not hold control characters (RFC 9110 qdtext)
    /(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\u0000-\u001f]*"|[A-Za-z0-9!#$&^_.+-]+))*$/.source,
);

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export function isValidContentType(value: unknown): value is string {
  return typeof value === "string" && value.length <= 255 && MEDIA_TYPE_PATTERN.test(value);
}

/** UTF-8 byte length without allocating (works in browsers too, unlike Buffer). */
export function utf8Length(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
