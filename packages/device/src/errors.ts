/** Errors a device program can act on: the protocol's status/code, or a storage refusal. */

export class FleetdropError extends Error {
  constructor(
    message: string,
    /** The protocol's stable code (e.g. `session_closed`), or a storage/transport code. */
    readonly code: string,
    /** HTTP-like status (docs/protocol.md#error-codes); 0 for transport failures. */
    readonly status: number,
  ) {
    super(message);
    this.name = "FleetdropError";
  }

  /** 429, 500 and 503 answers and transport failures are worth retrying. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 500 || this.status === 503;
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
