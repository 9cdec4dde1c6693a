import { describe, expect, it } from "vitest";
import { FleetdropError, StorageRejectedError, TimeoutError } from "./errors";
import { guessContentType } from "./content-type";

describe("errors", () => {
  it("carry the protocol's code and status, and say what is worth retrying", () => {
    const closed = new FleetdropError("Session is closed", "session_closed", 409);
    expect(closed).toBeInstanceOf(Error);
    expect([closed.code, closed.status, closed.retryable]).toEqual(["session_closed", 409, false]);
    for (const status of [0, 429, 500, 503]) expect(new FleetdropError("x", "c", status).retryable).toBe(true);
    for (const status of [400, 403, 404, 409, 413]) expect(new FleetdropError("x", "c", status).retryable).toBe(false);
  });

  it("a timeout is a retryable transport failure", () => {
    const error = new TimeoutError("uploadRequest", 1500);
    expect(error).toBeInstanceOf(FleetdropError);
    expect([error.code, error.status, error.retryable]).toEqual(["timeout", 0, true]);
    expect(error.message).toContain("1500 ms");
  });

  it("an expired form (403 from storage) asks for a fresh form", () => {
    expect(new StorageRejectedError(403, "AccessDenied", "Policy expired").needsFreshForm).toBe(true);
    expect(new StorageRejectedError(400, "EntityTooLarge", "too big").needsFreshForm).toBe(false);
    expect(new StorageRejectedError(400, "EntityTooLarge", "too big").retryable).toBe(false);
  });
});

describe("guessContentType", () => {
  it("maps known extensions case-insensitively and falls back to octet-stream", () => {
    expect(guessContentType("IMG_1.JPG")).toBe("image/jpeg");
    expect(guessContentType("logs/system.log")).toBe("text/plain");
    expect(guessContentType("run.mcap")).toBe("application/x-mcap");
    expect(guessContentType("README")).toBe("application/octet-stream");
    expect(guessContentType("archive.unknownext")).toBe("application/octet-stream");
  });
});
