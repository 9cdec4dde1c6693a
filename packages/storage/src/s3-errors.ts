/**
 * Which S3 failures mean "storage unavailable, retry" (the worker answers 503) and which are
 * answers (not found) or configuration problems (rethrown as they are).
 */
import { StorageUnavailableError } from "./store";

const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

const UNAVAILABLE_ERROR_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "SlowDown",
  "ServiceUnavailable",
  "InternalError",
  "ThrottlingException",
  "CredentialsProviderError",
]);

type TSdkErrorShape = {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
};

function shape(error: unknown): TSdkErrorShape {
  return typeof error === "object" && error !== null ? error : {};
}

export function httpStatusOf(error: unknown): number | undefined {
  return shape(error).$metadata?.httpStatusCode;
}

export function isUnavailable(error: unknown): boolean {
  const { name, code, message } = shape(error);
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if (name !== undefined && UNAVAILABLE_ERROR_NAMES.has(name)) return true;
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return true;
  // Node's "socket hang up" and similar carry their code on the error or its cause.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && cause !== error && isUnavailable(cause)) return true;
  return status === undefined && typeof message === "string" && /socket hang up|ECONNREFUSED|ECONNRESET/.test(message);
}

export function isNotFound(error: unknown): boolean {
  const { name } = shape(error);
  return name === "NotFound" || name === "NoSuchKey" || httpStatusOf(error) === 404;
}

/** A StorageUnavailableError for transient failures; any other error unchanged. */
export function toStorageError(error: unknown, action: string): unknown {
  if (error instanceof StorageUnavailableError || !isUnavailable(error)) return error;
  const { name, code, message } = shape(error);
  const reason = [name, code, message].filter(Boolean).join(": ") || String(error);
  return new StorageUnavailableError(`S3 ${action} failed: ${reason}`, { cause: error });
}
