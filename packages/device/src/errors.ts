/** Errors a device program can act on: the protocol's status/code, or a storage refusal. */
import { type TExistingFile, ZExistingFileSchema } from "@fleetdrop/shared/protocol/common";

export type { TExistingFile };

export class FleetdropError extends Error {
  constructor(
    message: string,
    /** The protocol's stable code (e.g. `session_closed`), or a storage/transport code. */
    readonly code: string,
    /** HTTP-like status (docs/protocol.md#error-codes); 0 for transport failures. */
    readonly status: number,
    /** With `429 rate_limited`: the seconds the platform asked to wait before sending again. */
    readonly retryAfterSeconds?: number,
    /** With `409 file_exists`: the file stored under the name, when the platform said (docs/protocol.md#file_uploadrequest). */
    readonly existing?: TExistingFile,
  ) {
    super(message);
    this.name = "FleetdropError";
  }

  /** 429, 500 and 503 answers and transport failures are worth retrying. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 500 || this.status === 503;
  }
}

/** The `retry_after` of an answer, when it carries a usable one. */
export function retryAfterOf(answer: Record<string, unknown>): number | undefined {
  const value = answer.retry_after;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The `existing` of a `file_exists` answer, when it carries a well-formed one. */
export function existingOf(answer: Record<string, unknown>): TExistingFile | undefined {
  const parsed = ZExistingFileSchema.safeParse(answer.existing);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Whether `error` is a `file_exists` refusal for this very file: the platform's `existing` has the
 * local file's size and SHA-256 (an earlier attempt stored it and its answer was lost, or another
 * run got there first), so the upload is done. Returns the stored file then, else null: another
 * file of the name, or one whose size or SHA-256 the platform does not know, is not this one.
 *
 * `sha256` is called only when the sizes agree and the platform knows a digest (reading a large
 * file costs); whatever it throws is thrown.
 */
export async function alreadyStored(error: unknown, local: { size: number; sha256: () => Promise<string> }): Promise<TExistingFile | null> {
  if (!(error instanceof FleetdropError) || error.code !== "file_exists") return null;
  const existing = error.existing;
  if (!existing?.sha256 || existing.size !== local.size) return null;
  return (await local.sha256()) === existing.sha256 ? existing : null;
}

/** The platform kept refusing with `429 rate_limited` and the SDK stopped waiting. */
export class RateLimitedError extends FleetdropError {
  constructor(what: string, retryAfterSeconds: number, attempts: number, reason: string) {
    super(
      `${what}: the platform is rate-limiting this device (429 rate_limited, retry after ${retryAfterSeconds} s)` +
        `; gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason}`,
      "rate_limited",
      429,
      retryAfterSeconds,
    );
    this.name = "RateLimitedError";
  }
}

export class TimeoutError extends FleetdropError {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms (is the ingest worker running?)`, "timeout", 0);
    this.name = "TimeoutError";
  }
}

/** Storage refused the POST (S3-style XML error). */
export class StorageRejectedError extends FleetdropError {
  constructor(status: number, code: string, message: string) {
    super(`storage refused the upload (${status} ${code}): ${message}`, code, status);
    this.name = "StorageRejectedError";
  }

  /** The form expired or its signature no longer holds: ask for a fresh one. */
  get needsFreshForm(): boolean {
    return this.status === 403;
  }
}
