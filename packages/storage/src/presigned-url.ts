/**
 * SigV4 query-string authentication ("presigned URLs") for S3-style GETs, signed and verified
 * here so that filesystem-store downloads are signed URLs exactly like S3's.
 *
 * Canonical request (S3 flavour):
 *   METHOD \n /uri-encoded/path \n sorted encoded query (without X-Amz-Signature) \n
 *   host:<host>\n \n host \n UNSIGNED-PAYLOAD
 * String to sign: AWS4-HMAC-SHA256 \n <x-amz-date> \n <scope> \n hex(sha256(canonical request)).
 */
import { parseAmzDate, toAmzDate } from "./sigv4/amz-date";
import { credentialScope, formatCredential, parseCredential, SIGV4_ALGORITHM } from "./sigv4/credential";
import { sha256Hex, signaturesMatch, signHex, signingKey } from "./sigv4/signing-key";
import { uriEncode, uriEncodePath } from "./sigv4/uri-encode";
import { accessDenied, invalidAccessKeyId, S3ProtocolError, signatureDoesNotMatch } from "./s3-protocol-error";
import type { TSigningCredentials } from "./post-policy";

/** S3's limit: a presigned URL lives at most seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** The `response-*` query parameters S3 turns into response headers (they are signed). */
export const RESPONSE_OVERRIDE_HEADERS = {
  "response-content-type": "Content-Type",
  "response-content-disposition": "Content-Disposition",
  "response-content-language": "Content-Language",
  "response-content-encoding": "Content-Encoding",
  "response-cache-control": "Cache-Control",
  "response-expires": "Expires",
} as const;
export type TResponseOverrideParameter = keyof typeof RESPONSE_OVERRIDE_HEADERS;

export type TPresignUrlInput = {
  method?: "GET" | "HEAD" | "PUT";
  /** `http://host:port` — where the client sends the request (also the signed `host`). */
  origin: string;
  /** The decoded path, e.g. `/fs/bucket/logs/a b.txt`; encoded here. */
  path: string;
  region: string;
  credentials: TSigningCredentials;
  expiresIn: number;
  /** Extra signed parameters, e.g. `response-content-disposition`. */
  query?: Readonly<Record<string, string>>;
  now?: Date;
};

export function presignUrl(input: TPresignUrlInput): string {
  if (!Number.isInteger(input.expiresIn) || input.expiresIn < 1 || input.expiresIn > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new Error(`expiresIn must be an integer from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds`);
  }
  const origin = new URL(input.origin);
  const amzDate = toAmzDate(input.now ?? new Date());
  const scopeDate = amzDate.slice(0, 8);
  const params: Array<[string, string]> = [
    ["X-Amz-Algorithm", SIGV4_ALGORITHM],
    ["X-Amz-Credential", formatCredential(input.credentials.accessKeyId, scopeDate, input.region)],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", String(input.expiresIn)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  if (input.credentials.sessionToken !== undefined) params.push(["X-Amz-Security-Token", input.credentials.sessionToken]);
  for (const [name, value] of Object.entries(input.query ?? {})) params.push([name, value]);

  const canonicalUri = uriEncodePath(input.path);
  const canonicalQuery = canonicalQueryString(params);
  const canonicalRequest = [input.method ?? "GET", canonicalUri, canonicalQuery, `host:${origin.host}\n`, "host", UNSIGNED_PAYLOAD].join(
    "\n",
  );
  const stringToSign = [SIGV4_ALGORITHM, amzDate, credentialScope(scopeDate, input.region), sha256Hex(canonicalRequest)].join("\n");
  const signature = signHex(signingKey(input.credentials.secretAccessKey, scopeDate, input.region), stringToSign);
  return `${origin.origin}${canonicalUri}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

function canonicalQueryString(params: ReadonlyArray<readonly [string, string]>): string {
  return params
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

// ---------------------------------------------------------------------------------------------
// Verification

export type TUrlCredentialLookup = (accessKeyId: string) => { secretAccessKey: string; region: string } | undefined;

export type TVerifyPresignedUrlInput = {
  /** Methods whose signature is accepted (HEAD requests may use a URL signed for GET). */
  methods: readonly string[];
  /** The decoded path as requested. */
  path: string;
  /** Decoded query parameters in request order. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Request headers (lower-case names), for the signed headers (always `host`). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  lookupCredentials: TUrlCredentialLookup;
  now?: number;
};

export type TVerifiedUrl = {
  accessKeyId: string;
  expiresAt: number;
  /** Signed `response-*` overrides, by parameter name. */
  overrides: Partial<Record<TResponseOverrideParameter, string>>;
};

const REQUIRED_PARAMETERS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Signature",
  "X-Amz-Date",
  "X-Amz-SignedHeaders",
  "X-Amz-Expires",
];
/** S3 accepts a request dated up to 15 minutes in the future (clock skew). */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Throws {@link S3ProtocolError} unless the URL carries a valid, unexpired signature. */
export function verifyPresignedUrl(input: TVerifyPresignedUrlInput): TVerifiedUrl {
  const now = input.now ?? Date.now();
  const params = new Map<string, string>();
  for (const [name, value] of input.query) {
    if (params.has(name)) throw queryError(`the query parameter ${name} must not be given more than once`);
    params.set(name, value);
  }
  if (!params.has("X-Amz-Algorithm")) throw accessDenied("Access Denied: this URL carries no signature");
  for (const name of REQUIRED_PARAMETERS) {
    if (!params.has(name)) {
      throw queryError(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, " +
          "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
      );
    }
  }
  const get = (name: string): string => params.get(name) as string;
  if (get("X-Amz-Algorithm") !== SIGV4_ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}"`);
  const credentialText = get("X-Amz-Credential");
  const credential = parseCredential(credentialText);
  if (typeof credential === "string") throw queryError(`Error parsing the X-Amz-Credential parameter; ${credential}`);
  const amzDate = get("X-Amz-Date");
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === null) throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (amzDate.slice(0, 8) !== credential.date) throw queryError("the date of X-Amz-Date does not match the date in X-Amz-Credential");
  const expiresText = get("X-Amz-Expires");
  if (!/^\d{1,7}$/.test(expiresText)) throw queryError("X-Amz-Expires should be a number");
  const expires = Number(expiresText);
  if (expires < 1) throw queryError("X-Amz-Expires must be non-negative");
  if (expires > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
  }

  const secret = input.lookupCredentials(credential.accessKeyId);
  if (secret === undefined) throw invalidAccessKeyId(credential.accessKeyId);
  if (credential.region !== secret.region) {
    throw queryError(
      `Error parsing the X-Amz-Credential parameter; the region '${credential.region}' is wrong; expecting '${secret.region}'`,
    );
  }

  const signedHeaders = get("X-Amz-SignedHeaders").split(";");
  if (!signedHeaders.includes("host")) throw queryError("X-Amz-SignedHeaders must include host");
  let canonicalHeaders = "";
  for (const name of signedHeaders) {
    if (name !== name.toLowerCase() || name === "") throw queryError("X-Amz-SignedHeaders must be lower-case header names");
    const value = input.headers[name];
    const text = Array.isArray(value) ? value.join(",") : value;
    if (text === undefined)
      throw accessDenied(`There were headers present in the request which were not signed: ${name} is signed but missing`);
    canonicalHeaders += `${name}:${text.trim().replace(/\s+/g, " ")}\n`;
  }

  const unsigned = input.query.filter(([name]) => name !== "X-Amz-Signature");
  const canonicalQuery = canonicalQueryString(unsigned);
  const canonicalUri = uriEncodePath(input.path);
  const key = signingKey(secret.secretAccessKey, credential.date, credential.region);
  const scope = credentialScope(credential.date, credential.region);
  const provided = get("X-Amz-Signature");
  let lastStringToSign = "";
  let valid = false;
  for (const method of input.methods) {
    const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders.join(";"), UNSIGNED_PAYLOAD].join("\n");
    lastStringToSign = [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
    if (signaturesMatch(provided, signHex(key, lastStringToSign))) {
      valid = true;
      break;
    }
  }
  if (!valid) throw signatureDoesNotMatch(credential.accessKeyId, lastStringToSign, provided);

  if (signedAt - now > MAX_CLOCK_SKEW_MS) throw accessDenied("Request is not valid yet");
  const expiresAt = signedAt + expires * 1000;
  if (now > expiresAt) throw accessDenied("Request has expired");

  const overrides: Partial<Record<TResponseOverrideParameter, string>> = {};
  for (const name of Object.keys(RESPONSE_OVERRIDE_HEADERS) as TResponseOverrideParameter[]) {
    const value = params.get(name);
    if (value !== undefined) overrides[name] = value;
  }
  return { accessKeyId: credential.accessKeyId, expiresAt, overrides };
}

function queryError(message: string): S3ProtocolError {
  return new S3ProtocolError(400, "AuthorizationQueryParametersError", message);
}
