/**
 * Checks on presign requests that both backends share, so that S3 and the filesystem store
 * refuse the same inputs with the same messages.
 */
import { isValidContentType } from "@fleetdrop/shared/names";

import { contentDisposition } from "./content-disposition";
import { MAX_PRESIGNED_EXPIRES_SECONDS } from "./presigned-url";
import type { TPresignGetInput, TPresignPostInput } from "./store";

/** S3's largest single POST upload: 5 GiB (the protocol's `size_mb` ceiling of 5120). */
export const MAX_POST_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;

export function assertPresignPostInput(input: TPresignPostInput): void {
  if (!isValidContentType(input.contentType)) {
    throw new Error(`contentType ${JSON.stringify(input.contentType)} is not a type/subtype media type`);
  }
  if (!Number.isSafeInteger(input.maxBytes) || input.maxBytes < 0 || input.maxBytes > MAX_POST_UPLOAD_BYTES) {
    throw new Error(`maxBytes must be an integer from 0 to ${MAX_POST_UPLOAD_BYTES} (5 GiB, S3's POST limit), got ${input.maxBytes}`);
  }
  assertExpiresIn(input.expiresIn);
  if (input.sha256 !== undefined && !SHA256_HEX.test(input.sha256)) {
    throw new Error(`sha256 must be 64 lower-case hexadecimal digits, got ${JSON.stringify(input.sha256)}`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function assertExpiresIn(expiresIn: number): void {
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new Error(`expiresIn must be an integer from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds (7 days), got ${expiresIn}`);
  }
}

/** The signed `response-*` overrides of a download URL. */
export function responseOverrides(input: TPresignGetInput): { contentDisposition?: string; contentType?: string } {
  assertExpiresIn(input.expiresIn);
  const overrides: { contentDisposition?: string; contentType?: string } = {};
  if (input.downloadName !== undefined) {
    if (input.downloadName === "") throw new Error("downloadName must not be empty");
    overrides.contentDisposition = contentDisposition(input.downloadName, input.disposition);
  } else if (input.disposition === "inline" || input.disposition === "attachment") {
    overrides.contentDisposition = input.disposition;
  }
  if (input.contentType !== undefined) {
    if (!isValidContentType(input.contentType)) {
      throw new Error(`contentType ${JSON.stringify(input.contentType)} is not a type/subtype media type`);
    }
    overrides.contentType = input.contentType;
  }
  return overrides;
}
