/**
 * The SHA-256 checksum of an S3 POST Object form: the fields `x-amz-checksum-algorithm` =
 * `SHA256` and `x-amz-checksum-sha256` (base64 of the 32-byte digest), as S3 takes them. Both are
 * x-amz-* fields, so a signed policy must pin them exactly; storage then refuses a file whose
 * digest differs with 400 BadDigest, and stores nothing.
 */
import { S3ProtocolError } from "./s3-protocol-error";

export const CHECKSUM_ALGORITHM_FIELD = "x-amz-checksum-algorithm";
export const CHECKSUM_SHA256_FIELD = "x-amz-checksum-sha256";

/** The form fields that bind a file to `sha256Hex` (64 lower-case hex digits). */
export function checksumFields(sha256Hex: string): Record<string, string> {
  return { [CHECKSUM_ALGORITHM_FIELD]: "SHA256", [CHECKSUM_SHA256_FIELD]: sha256HexToBase64(sha256Hex) };
}

export function sha256HexToBase64(hex: string): string {
  return Buffer.from(hex, "hex").toString("base64");
}

/** Hex of a base64 SHA-256 (S3's ChecksumSHA256); null unless it is exactly 32 bytes in canonical base64. */
export function sha256Base64ToHex(base64: string): string | null {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(base64)) return null;
  const bytes = Buffer.from(base64, "base64");
  return bytes.length === 32 && bytes.toString("base64") === base64 ? bytes.toString("hex") : null;
}

/**
 * The SHA-256 (hex) a verified form binds its file to, or null when it binds none. Throws 400
 * InvalidRequest for checksum fields this store cannot honour: another algorithm, a malformed
 * digest, an algorithm without its digest. `fields` are the form's fields by lower-case name.
 */
export function expectedPostSha256(fields: ReadonlyMap<string, string>): string | null {
  const algorithm = fields.get(CHECKSUM_ALGORITHM_FIELD);
  const digest = fields.get(CHECKSUM_SHA256_FIELD);
  for (const name of fields.keys()) {
    if (name.startsWith("x-amz-checksum-") && name !== CHECKSUM_ALGORITHM_FIELD && name !== CHECKSUM_SHA256_FIELD) {
      throw invalidRequest(`Only SHA256 checksums are supported by this store (found the field ${name}).`);
    }
  }
  if (algorithm !== undefined && algorithm.toUpperCase() !== "SHA256") {
    throw invalidRequest(`Value for x-amz-checksum-algorithm is invalid: only SHA256 is supported (got '${algorithm}').`);
  }
  if (digest === undefined) {
    if (algorithm !== undefined) throw invalidRequest("x-amz-checksum-algorithm is SHA256 but no x-amz-checksum-sha256 field was sent.");
    return null;
  }
  const hex = sha256Base64ToHex(digest);
  if (hex === null) throw invalidRequest("Value for x-amz-checksum-sha256 is invalid: it must be the base64 of a 32-byte digest.");
  return hex;
}

/** What S3 answers when the file's digest is not the one the form gave. */
export function badDigest(): S3ProtocolError {
  return new S3ProtocolError(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.");
}

function invalidRequest(message: string): S3ProtocolError {
  return new S3ProtocolError(400, "InvalidRequest", message);
}
