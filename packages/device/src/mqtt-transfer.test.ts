import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseByteSize } from "./cli/transfer-commands";
import { sha256OfFile } from "./file-digest";
import { stableFileId, writeTransferState, type TTransferState } from "./mqtt-transfer";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-mqtt-transfer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("resumable transfer helpers", () => {
  it("derives a valid file_id that stays the same for the same file and changes with it", () => {
    const base = { deviceId: "R1", sessionId: 3, filename: "a.bin", size: 10, mtimeMs: 1700000000123.4 };
    const id = stableFileId(base);
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(stableFileId({ ...base, mtimeMs: 1700000000123.9 })).toBe(id);
    for (const changed of [{ size: 11 }, { sessionId: 4 }, { filename: "b.bin" }, { deviceId: "R2" }, { mtimeMs: 1700000001000 }]) {
      expect(stableFileId({ ...base, ...changed })).not.toBe(id);
    }
    // An overwrite is another transfer; a plain one keeps the id it always had.
    expect(stableFileId({ ...base, overwrite: false })).toBe(id);
    expect(stableFileId({ ...base, overwrite: true })).not.toBe(id);
    expect(id).toBe("fDbENbURqD2rxxc3ra16W518s5vc2-KQ");
  });

  it("hashes a file with SHA-256 while streaming it", async () => {
    const file = path.join(dir, "abc.txt");
    await writeFile(file, "abc");
    expect(await sha256OfFile(file)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("writes the state file atomically, creating its folder", async () => {
    const file = path.join(dir, "state", "x.json");
    const state: TTransferState = {
      version: 1,
      fileId: "f1",
      deviceId: "R1",
      sessionId: 1,
      path: "/x",
      filename: "x",
      contentType: "text/plain",
      size: 3,
      mtimeMs: 1,
      sha256: "0".repeat(64),
      segmentSize: 65536,
      held: 0,
      updatedAt: new Date(0).toISOString(),
    };
    await writeTransferState(file, state);
    await writeTransferState(file, { ...state, held: 3 });
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ fileId: "f1", held: 3 });
  });

  it("reads segment sizes as bytes, k or m, and refuses anything else", () => {
    expect(parseByteSize(undefined, 65536)).toBe(65536);
    expect(parseByteSize("65536", 1)).toBe(65536);
    expect(parseByteSize("256k", 1)).toBe(262144);
    expect(parseByteSize("1M", 1)).toBe(1048576);
    expect(() => parseByteSize("0", 1)).toThrow(/at least 1 byte/);
    expect(() => parseByteSize("1.5k", 1)).toThrow(/not a size/);
    expect(() => parseByteSize("-3", 1)).toThrow(/not a size/);
  });
});
