/**
 * S3 "POST Object" with a SigV4-signed POST policy: build and sign the form a device posts, and
 * verify a submitted form by S3's rules (the filesystem store's upload endpoint enforces them).
 *
 * The signature is hex(HMAC-SHA256(signing key, policy)), where `policy` is the base64 text of
 * the UTF-8 JSON document exactly as sent. Verification follows the order S3 is seen to use:
 * required fields (400), access key (403), credential scope (400), signature (403, over the
 * policy text before it is decoded), policy document (400 InvalidPolicyDocument), expiration
 * and conditions (403 AccessDenied "Invalid according to Policy: ..."). Field and condition
 * names are case-insensitive; values are case-sensitive.
 */
import { checksumFields } from "./post-checksum";
import { parseAmzDate, parsePolicyExpiration, toAmzDate, toPolicyExpiration } from "./sigv4/amz-date";
import { formatCredential, parseCredential, SIGV4_ALGORITHM } from "./sigv4/credential";
import { signaturesMatch, signHex, signingKey } from "./sigv4/signing-key";
import {
  accessDenied,
  invalidAccessKeyId,
  invalidArgument,
  invalidPolicyDocument,
  S3ProtocolError,
  signatureDoesNotMatch,
} from "./s3-protocol-error";

export type TPostPolicyCondition =
  Readonly<Record<string, string>> | readonly ["eq" | "starts-with", string, string] | readonly ["content-length-range", number, number];

export type TPostPolicyDocument = { expiration: string; conditions: readonly TPostPolicyCondition[] };

export type TSigningCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** Base64 of the policy's UTF-8 JSON: the string that is signed and sent as the `policy` field. */
export function encodePostPolicy(document: TPostPolicyDocument): string {
  return Buffer.from(JSON.stringify(document), "utf8").toString("base64");
}

/** `scopeDate` is `YYYYMMDD`, the date of the form's x-amz-date and credential. */
export function signPostPolicy(policyBase64: string, secretAccessKey: string, scopeDate: string, region: string): string {
  return signHex(signingKey(secretAccessKey, scopeDate, region), policyBase64);
}

export type TCreatePostFormInput = {
  bucket: string;
  /** The key inside the bucket (with any store prefix), pinned exactly. */
  key: string;
  /** Pinned exactly. */
  contentType: string;
  /** content-length-range is [0, maxBytes]. */
  maxBytes: number;
  expiresIn: number;
  region: string;
  credentials: TSigningCredentials;
  /** The file's SHA-256 (hex): adds the checksum fields (post-checksum.ts), pinned exactly. */
  sha256?: string;
  now?: Date;
};

export type TPostForm = {
  /** In the order a device should send them, before the file: names as S3's own forms use. */
  fields: Record<string, string>;
  policy: TPostPolicyDocument;
  expiresAt: Date;
};

/**
 * The fields of an upload form: `key`, `Content-Type`, `policy`, `x-amz-algorithm`,
 * `x-amz-credential`, `x-amz-date`, (`x-amz-security-token`), (`x-amz-checksum-algorithm`,
 * `x-amz-checksum-sha256`), `x-amz-signature`. The policy pins
 * the bucket, the key, the Content-Type, the size range and every x-amz-* field. There is no
 * `bucket` field: the bucket is the one in the URL, which the policy's bucket condition checks.
 */
export function createPostForm(input: TCreatePostFormInput): TPostForm {
  const now = input.now ?? new Date();
  const amzDate = toAmzDate(now);
  const scopeDate = amzDate.slice(0, 8);
  const expiresAt = new Date(now.getTime() + input.expiresIn * 1000);
  const credential = formatCredential(input.credentials.accessKeyId, scopeDate, input.region);
  const token = input.credentials.sessionToken;

  const conditions: TPostPolicyCondition[] = [
    { bucket: input.bucket },
    { key: input.key },
    { "Content-Type": input.contentType },
    ["content-length-range", 0, input.maxBytes],
    { "x-amz-algorithm": SIGV4_ALGORITHM },
    { "x-amz-credential": credential },
    { "x-amz-date": amzDate },
  ];
  if (token !== undefined) conditions.push({ "x-amz-security-token": token });
  const checksum = input.sha256 === undefined ? {} : checksumFields(input.sha256);
  for (const [name, value] of Object.entries(checksum)) conditions.push({ [name]: value });
  const policy: TPostPolicyDocument = { expiration: toPolicyExpiration(expiresAt), conditions };
  const encoded = encodePostPolicy(policy);

  const fields: Record<string, string> = {
    key: input.key,
    "Content-Type": input.contentType,
    policy: encoded,
    "x-amz-algorithm": SIGV4_ALGORITHM,
    "x-amz-credential": credential,
    "x-amz-date": amzDate,
  };
  if (token !== undefined) fields["x-amz-security-token"] = token;
  Object.assign(fields, checksum);
  fields["x-amz-signature"] = signPostPolicy(encoded, input.credentials.secretAccessKey, scopeDate, input.region);
  return { fields, policy, expiresAt };
}

// ---------------------------------------------------------------------------------------------
// Verification

/** What the verifier needs to know about an access key; undefined when the key is unknown. */
export type TPostCredentialLookup = (accessKeyId: string) => { secretAccessKey: string; region: string } | undefined;

export type TVerifyPostFormInput = {
  /** Every field before the file part, names as sent (compared case-insensitively). */
  fields: Iterable<readonly [string, string]>;
  /** The bucket the form was posted to (from the URL). */
  bucket: string;
  lookupCredentials: TPostCredentialLookup;
  /** Milliseconds since the epoch; defaults to now. */
  now?: number;
};

export type TVerifiedPostForm = {
  accessKeyId: string;
  key: string;
  /** The form's Content-Type field, which becomes the object's content type. */
  contentType: string | undefined;
  /** Inclusive bounds of the file's size from every content-length-range condition. */
  contentLength: { min: number; max: number };
  /** `success_action_status` when it is 200, 201 or 204. */
  successActionStatus: 200 | 201 | 204;
  expiresAt: number;
  /** The fields by lower-case name. */
  fields: ReadonlyMap<string, string>;
};

/** Fields S3 does not require a condition for. */
const UNCOVERED_FIELDS = new Set(["x-amz-signature", "file", "policy"]);

/** Throws {@link S3ProtocolError} for any form S3 would refuse. */
export function verifyPostForm(input: TVerifyPostFormInput): TVerifiedPostForm {
  const now = input.now ?? Date.now();
  const fields = lowerCaseFields(input.fields);

  const key = fields.get("key");
  if (key === undefined) throw missingField("key");
  const policyText = fields.get("policy");
  // Without a policy S3 treats the upload as anonymous; the filesystem store allows none.
  if (policyText === undefined) throw accessDenied();
  const algorithm = required(fields, "x-amz-algorithm", "X-Amz-Algorithm");
  const credentialText = required(fields, "x-amz-credential", "X-Amz-Credential");
  const amzDate = required(fields, "x-amz-date", "X-Amz-Date");
  const signature = required(fields, "x-amz-signature", "X-Amz-Signature");

  if (algorithm !== SIGV4_ALGORITHM) {
    throw invalidArgument(`only ${SIGV4_ALGORITHM} is supported`, "X-Amz-Algorithm", algorithm);
  }
  const credential = parseCredential(credentialText);
  if (typeof credential === "string") throw invalidArgument(credential, "X-Amz-Credential", credentialText);
  const secret = input.lookupCredentials(credential.accessKeyId);
  if (secret === undefined) throw invalidAccessKeyId(credential.accessKeyId);
  if (credential.region !== secret.region) {
    throw new S3ProtocolError(400, "InvalidArgument", `the region '${credential.region}' is wrong; expecting '${secret.region}'`, {
      ArgumentName: "X-Amz-Credential",
      ArgumentValue: credentialText,
      Region: secret.region,
    });
  }
  if (parseAmzDate(amzDate) === null) {
    throw invalidArgument("X-Amz-Date must be formatted via ISO8601 Long format", "X-Amz-Date", amzDate);
  }
  if (amzDate.slice(0, 8) !== credential.date) {
    throw invalidArgument("the date of X-Amz-Date does not match the date in X-Amz-Credential", "X-Amz-Date", amzDate);
  }

  const expected = signPostPolicy(policyText, secret.secretAccessKey, credential.date, credential.region);
  if (!signaturesMatch(signature, expected)) {
    throw signatureDoesNotMatch(credential.accessKeyId, policyText, signature);
  }

  const policy = parsePolicyDocument(policyText);
  if (now > policy.expiresAt) throw accessDenied("Invalid according to Policy: Policy expired.");

  const contentLength = { min: 0, max: Number.POSITIVE_INFINITY };
  const covered = new Set<string>();
  let hasBucketCondition = false;
  for (const condition of policy.conditions) {
    if (condition.kind === "range") {
      contentLength.min = Math.max(contentLength.min, condition.min);
      contentLength.max = Math.min(contentLength.max, condition.max);
      continue;
    }
    covered.add(condition.field);
    if (condition.field === "bucket") hasBucketCondition = true;
    // The bucket is the one the form was posted to, whatever a `bucket` field says.
    const value = condition.field === "bucket" ? input.bucket : fields.get(condition.field);
    if (!conditionHolds(condition, value)) {
      throw accessDenied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition.display)}`);
    }
  }
  if (!hasBucketCondition) throw invalidPolicyDocument("Policy must contain a bucket condition.");
  const bucketField = fields.get("bucket");
  if (bucketField !== undefined && bucketField !== input.bucket) {
    throw accessDenied("Invalid according to Policy: the bucket field does not match the bucket posted to.");
  }

  for (const name of fields.keys()) {
    if (UNCOVERED_FIELDS.has(name) || name.startsWith("x-ignore-") || covered.has(name)) continue;
    throw accessDenied(`Invalid according to Policy: Extra input fields: ${name}`);
  }

  const status = fields.get("success_action_status");
  return {
    accessKeyId: credential.accessKeyId,
    key,
    contentType: fields.get("content-type"),
    contentLength,
    successActionStatus: status === "200" ? 200 : status === "201" ? 201 : 204,
    expiresAt: policy.expiresAt,
    fields,
  };
}

function lowerCaseFields(entries: Iterable<readonly [string, string]>): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (fields.has(lower)) throw invalidArgument(`the form field '${name}' must not be given more than once`, name);
    fields.set(lower, value);
  }
  return fields;
}

function missingField(canonicalName: string): S3ProtocolError {
  return invalidArgument(
    `Bucket POST must contain a field named '${canonicalName}'.  If it is specified, please check the order of the fields.`,
    canonicalName,
    "",
  );
}

function required(fields: ReadonlyMap<string, string>, name: string, canonicalName: string): string {
  const value = fields.get(name);
  if (value === undefined) throw missingField(canonicalName);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The policy document

type TFieldCondition = {
  kind: "eq" | "starts-with";
  /** Lower-case form field name, without `$`; null when the policy wrote no `$` (never holds). */
  field: string;
  value: string;
  /** As S3 prints a failed condition: `["eq", "$key", "a/b"]`. */
  display: readonly unknown[];
};
type TRangeCondition = { kind: "range"; min: number; max: number };
type TParsedPolicy = { expiresAt: number; conditions: Array<TFieldCondition | TRangeCondition> };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Fields the SigV4 table allows exact matching only for (plus every x-amz-* but x-amz-meta-*). */
const EXACT_ONLY_FIELDS = new Set(["bucket", "success_action_status"]);

function parsePolicyDocument(policyText: string): TParsedPolicy {
  if (!BASE64.test(policyText)) throw invalidPolicyDocument("invalid Base64 encoding.");
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(policyText, "base64").toString("utf8"));
  } catch {
    throw invalidPolicyDocument("Invalid JSON.");
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw invalidPolicyDocument("Invalid JSON.");
  }
  for (const name of Object.keys(document)) {
    if (name !== "expiration" && name !== "conditions") throw invalidPolicyDocument(`Unexpected: '${name.toLowerCase()}'`);
  }
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalidPolicyDocument("Policy missing expiration.");
  const expiresAt = typeof expiration === "string" ? parsePolicyExpiration(expiration) : null;
  if (expiresAt === null)
    throw invalidPolicyDocument(
      `Invalid 'expiration' value: '${typeof expiration === "string" ? expiration : JSON.stringify(expiration)}'`,
    );
  if (conditions === undefined) throw invalidPolicyDocument("Policy missing conditions.");
  if (!Array.isArray(conditions)) throw invalidPolicyDocument("Invalid 'conditions' value: must be a List.");
  return { expiresAt, conditions: conditions.map(parseCondition) };
}

function parseCondition(condition: unknown): TFieldCondition | TRangeCondition {
  if (Array.isArray(condition)) return parseListCondition(condition);
  if (typeof condition !== "object" || condition === null) {
    throw invalidPolicyDocument("Invalid condition test: must be a List or Object.");
  }
  const entries = Object.entries(condition);
  if (entries.length !== 1) {
    throw invalidPolicyDocument("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
  }
  const [name, value] = entries[0] as [string, unknown];
  if (typeof value !== "string") throw invalidPolicyDocument("Invalid Simple-Condition: value must be a string.");
  return { kind: "eq", field: name.toLowerCase(), value, display: ["eq", `$${name}`, value] };
}

function parseListCondition(condition: unknown[]): TFieldCondition | TRangeCondition {
  const [operation, first, second] = condition;
  if (typeof operation !== "string") throw invalidPolicyDocument("Invalid Condition: missing operation identifier.");
  const op = operation.toLowerCase();
  if (op === "content-length-range") {
    if (condition.length !== 3) throw invalidPolicyDocument("Invalid content-length-range: wrong number of arguments.");
    const min = parseLength(first);
    const max = parseLength(second);
    if (min === null || max === null || min > max) {
      throw invalidPolicyDocument("Invalid content-length-range: the bounds must be integers with 0 <= min <= max.");
    }
    return { kind: "range", min, max };
  }
  if (op !== "eq" && op !== "starts-with") throw invalidPolicyDocument(`Invalid Condition: unknown operation '${operation}'.`);
  if (condition.length !== 3) throw invalidPolicyDocument(`Invalid ${operation}: wrong number of arguments.`);
  if (typeof first !== "string" || typeof second !== "string") throw invalidPolicyDocument("Invalid JSON.");
  // S3 reports a name without `$` as a failed condition rather than a malformed policy.
  const field = first.startsWith("$") ? first.slice(1).toLowerCase() : "\u0000never";
  if (op === "starts-with" && isExactOnly(field)) {
    throw invalidPolicyDocument(`Invalid Condition: '${first}' supports exact matching only.`);
  }
  return { kind: op, field, value: second, display: [operation, first, second] };
}

function isExactOnly(field: string): boolean {
  return EXACT_ONLY_FIELDS.has(field) || (field.startsWith("x-amz-") && !field.startsWith("x-amz-meta-"));
}

function parseLength(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value === "string" && /^\d{1,16}$/.test(value)) return Number(value);
  return null;
}

function conditionHolds(condition: TFieldCondition, value: string | undefined): boolean {
  // A condition on a field the form lacks fails, even `starts-with ""` (as S3 does).
  if (value === undefined) return false;
  if (condition.kind === "eq") return value === condition.value;
  // Content-Type lists (`image/png,image/gif`): every listed type must match.
  if (condition.field === "content-type") return value.split(",").every((type) => type.startsWith(condition.value));
  return value.startsWith(condition.value);
}
