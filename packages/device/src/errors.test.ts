import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { alreadyStored, FleetdropError, StorageRejectedError, TimeoutError, type TExistingFile } from "./errors";
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

describe("alreadyStored: is a file_exists refusal about this very file?", () => {
  const digest = (text: string) => createHash("sha256").update(text).digest("hex");
  const local = "the local bytes";
  const uploadedAt = "2026-01-02T03:04:05.678Z";
  const refusal = (existing?: TExistingFile, code = "file_exists") =>
    new FleetdropError("A file with this name is already uploaded in this session", code, 409, undefined, existing);
  /** The local file, counting how often its SHA-256 is asked for. */
  function localFile() {
    const file = {
      size: Buffer.byteLength(local),
      hashed: 0,
      sha256: async () => {
        file.hashed++;
        return digest(local);
      },
    };
    return file;
  }

  it("the same size and SHA-256: the stored file, with its upload time", async () => {
    const file = localFile();
    const existing = { size: file.size, sha256: digest(local), uploaded_at: uploadedAt };
    expect(await alreadyStored(refusal(existing), file)).toEqual(existing);
    expect(file.hashed).toBe(1);
  });

  it("the same size and another SHA-256: not this file", async () => {
    const file = localFile();
    expect(await alreadyStored(refusal({ size: file.size, sha256: digest("other bytes"), uploaded_at: uploadedAt }), file)).toBeNull();
    expect(file.hashed).toBe(1);
  });

  it("a digest the platform never computed (null): not known to be this file, and the local file is not read", async () => {
    const file = localFile();
    expect(await alreadyStored(refusal({ size: file.size, sha256: null, uploaded_at: uploadedAt }), file)).toBeNull();
    expect(file.hashed).toBe(0);
  });

  it("another size (or an unknown one): not this file, and the local file is not read", async () => {
    const file = localFile();
    expect(await alreadyStored(refusal({ size: file.size + 1, sha256: digest(local), uploaded_at: uploadedAt }), file)).toBeNull();
    expect(await alreadyStored(refusal({ size: null, sha256: digest(local), uploaded_at: null }), file)).toBeNull();
    expect(file.hashed).toBe(0);
  });

  it("only a file_exists refusal that says what is stored counts", async () => {
    const file = localFile();
    const existing = { size: file.size, sha256: digest(local), uploaded_at: uploadedAt };
    expect(await alreadyStored(refusal(undefined), file)).toBeNull();
    expect(await alreadyStored(refusal(existing, "session_closed"), file)).toBeNull();
    expect(await alreadyStored(new Error("file_exists"), file)).toBeNull();
    expect(file.hashed).toBe(0);
  });

  it("a local file that cannot be read fails the check with its own error", async () => {
    const unreadable = Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    const existing = { size: 3, sha256: digest("abc"), uploaded_at: uploadedAt };
    await expect(alreadyStored(refusal(existing), { size: 3, sha256: () => Promise.reject(unreadable) })).rejects.toBe(unreadable);
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
