import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, openSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SizeLimitExceededError, TEMP_FILE_TOUCH_MS, writeTempFile } from "./fs-temp-file";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-temp-file-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whether this folder's filesystem takes O_DIRECT (ext4 and xfs do; the test machines' /tmp is ext4). */
function directIoWorksIn(folder: string): boolean {
  try {
    closeSync(openSync(path.join(folder, "probe"), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  }
}

/** A body arriving in socket-sized chunks of uneven length. */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, step = 1; at < bytes.length; at += step, step = ((step * 7 + 13) % 70_000) + 1)
    chunks.push(bytes.subarray(at, at + step));
  return Readable.from(chunks);
}

const MIB = 1024 * 1024;

describe("writeTempFile", () => {
  for (const direct of [true, false]) {
    it(`writes every size byte for byte, with its size, MD5 and SHA-256 (${direct ? "O_DIRECT" : "page cache"})`, async () => {
      for (const size of [0, 1, 4095, 4096, 4097, MIB - 1, MIB, MIB + 1, 3 * MIB + 7]) {
        const bytes = randomBytes(size);
        const file = path.join(dir, `${direct}-${size}`);
        const result = await writeTempFile(file, chunked(bytes), { direct });
        expect(result).toEqual({
          size,
          md5Hex: createHash("md5").update(bytes).digest("hex"),
          sha256Hex: createHash("sha256").update(bytes).digest("hex"),
          io: direct && directIoWorksIn(dir) ? "direct" : "buffered",
        });
        expect((await readFile(file)).equals(bytes), `${size} bytes`).toBe(true);
      }
    });

    it(`stops at the size limit and leaves no file behind (${direct ? "O_DIRECT" : "through the page cache"})`, async () => {
      const file = path.join(dir, "too-big");
      await expect(writeTempFile(file, chunked(randomBytes(2 * MIB + 100)), { direct, maxBytes: 2 * MIB })).rejects.toBeInstanceOf(
        SizeLimitExceededError,
      );
      expect(await readdir(dir)).not.toContain("too-big");
    });
  }

  it("leaves no file behind when the body fails half way", async () => {
    const file = path.join(dir, "broken");
    const body = new Readable({
      read() {
        this.push(randomBytes(MIB + 5));
        this.destroy(new Error("connection reset"));
      },
    });
    await expect(writeTempFile(file, body)).rejects.toThrow("connection reset");
    expect(await readdir(dir)).not.toContain("broken");
  });

  it("rejects, and leaves no file, when the body fails while the file is still being opened", async () => {
    // As a transfer's checksum stream does when the last bytes do not match: at once.
    const file = path.join(dir, "early");
    const body = new PassThrough();
    const writing = writeTempFile(file, body);
    body.destroy(new Error("SHA-256 does not match"));
    await expect(writing).rejects.toThrow("SHA-256 does not match");
    expect(await readdir(dir)).not.toContain("early");
  });

  it("never touches a file it did not create", async () => {
    const file = path.join(dir, "taken");
    await writeTempFile(file, "first");
    await expect(writeTempFile(file, "second")).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(file, "utf8")).toBe("first");
  });
});

describe("a temp file being written", () => {
  it("is touched while open even when no bytes reach the disk, so a clean-up by age never takes it", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const file = path.join(dir, "slow.part");
      const body = new PassThrough();
      const writing = writeTempFile(file, body);
      body.write(Buffer.alloc(1000, 1));
      for (let i = 0; i < 100 && !(await stat(file).catch(() => null)); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const longAgo = new Date(Date.now() - 3600_000);
      await utimes(file, longAgo, longAgo);
      vi.advanceTimersByTime(TEMP_FILE_TOUCH_MS);
      let mtime = 0;
      for (let i = 0; i < 100 && mtime < Date.now() - 60_000; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        mtime = (await stat(file)).mtimeMs;
      }
      expect(mtime).toBeGreaterThan(Date.now() - 60_000);
      body.end();
      expect(await writing).toMatchObject({ size: 1000 });
    } finally {
      vi.useRealTimers();
    }
  });
});
