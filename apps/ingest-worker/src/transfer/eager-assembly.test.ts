import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FsStore } from "@fleetdrop/storage/fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EagerAssembler } from "./eager-assembly";
import { FileStaging } from "./file-staging";

let dir: string;
let staging: FileStaging;
let store: FsStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-eager-"));
  staging = new FileStaging(path.join(dir, "staging"));
  store = new FsStore({
    rootDir: path.join(dir, "store"),
    bucket: "uploads",
    publicUrl: "http://127.0.0.1:1",
    region: "us-east-1",
    accessKeyId: "test",
    secretAccessKey: "test-secret-0123456789",
  });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** Writes segments to the staging file, as a batch does, and tells the assembler (with or without their bytes). */
async function stage(
  eager: EagerAssembler,
  transfer: { id: string; objectKey: string; contentType: string },
  bytes: Buffer,
  ranges: [number, number][],
  withData: boolean,
) {
  await staging.write(ranges.map(([start, end]) => ({ transferId: transfer.id, offset: start, data: bytes.subarray(start, end) })));
  eager.staged(
    transfer,
    ranges.map(([start, end]) => ({ offset: start, length: end - start, ...(withData ? { data: bytes.subarray(start, end) } : {}) })),
  );
}

describe("EagerAssembler", () => {
  it("hashes segments that arrive in order, or a batch ahead of a gap, then adopts the file with its SHA-256 as ETag", async () => {
    const eager = new EagerAssembler(staging, store, 4);
    const transfer = { id: randomUUID(), objectKey: "sessions/R/1/a.bin", contentType: "application/octet-stream" };
    const bytes = randomBytes(3_000_000);
    await stage(eager, transfer, bytes, [[0, 1_000_000]], true);
    await stage(eager, transfer, bytes, [[2_000_000, 3_000_000]], true); // ahead of the hash: kept until the gap closes
    await stage(eager, transfer, bytes, [[1_000_000, 2_000_000]], true);
    const finished = await eager.finish(transfer.id, bytes.length, sha256(bytes));
    expect(finished).toMatchObject({ outcome: "stored", sha256: sha256(bytes), etag: `"${sha256(bytes)}"`, size: bytes.length });
    expect((await readFile(path.join(dir, "store/uploads/objects/sessions/R/1/a.bin"))).equals(bytes)).toBe(true);
  });

  it("takes the bytes from the segments' buffers, not from the file, in order and ahead of a gap", async () => {
    // Proof of where the hash reads: the buffers given differ from what is on disk.
    const eager = new EagerAssembler(staging, store, 4);
    const transfer = { id: randomUUID(), objectKey: "sessions/R/1/b.bin", contentType: "application/octet-stream" };
    const onDisk = randomBytes(300_000);
    const inMemory = randomBytes(300_000);
    for (const [start, end] of [
      [0, 100_000],
      [200_000, 300_000],
      [100_000, 200_000],
    ] as const) {
      await staging.write([{ transferId: transfer.id, offset: start, data: onDisk.subarray(start, end) }]);
      eager.staged(transfer, [{ offset: start, length: end - start, data: inMemory.subarray(start, end) }]);
    }
    expect(await eager.finish(transfer.id, 300_000, null)).toMatchObject({ outcome: "stored", sha256: sha256(inMemory) });
  });

  it("reads back from the file what it cannot keep: more than 8 MiB ahead of the hash", async () => {
    const eager = new EagerAssembler(staging, store, 4);
    const transfer = { id: randomUUID(), objectKey: "sessions/R/1/e.bin", contentType: "application/octet-stream" };
    const onDisk = randomBytes(10 * 1024 * 1024);
    const inMemory = randomBytes(onDisk.length);
    const mib = 1024 * 1024;
    await staging.write([{ transferId: transfer.id, offset: mib, data: onDisk.subarray(mib) }]);
    eager.staged(transfer, [{ offset: mib, length: onDisk.length - mib, data: inMemory.subarray(mib) }]);
    await staging.write([{ transferId: transfer.id, offset: 0, data: onDisk.subarray(0, mib) }]);
    eager.staged(transfer, [{ offset: 0, length: mib, data: inMemory.subarray(0, mib) }]);
    const expected = sha256(Buffer.concat([inMemory.subarray(0, mib), onDisk.subarray(mib)]));
    expect(await eager.finish(transfer.id, onDisk.length, null)).toMatchObject({ outcome: "stored", sha256: expected });
  });

  it("reads the file where a batch's segments overlap or leave the hash behind, and without buffers", async () => {
    const eager = new EagerAssembler(staging, store, 4);
    const transfer = { id: randomUUID(), objectKey: "sessions/R/1/c.bin", contentType: "application/octet-stream" };
    const bytes = randomBytes(400_000);
    // Overlapping segments in one batch, then a batch without buffers.
    await stage(
      eager,
      transfer,
      bytes,
      [
        [0, 150_000],
        [100_000, 250_000],
      ],
      true,
    );
    await stage(eager, transfer, bytes, [[250_000, 400_000]], false);
    expect(await eager.finish(transfer.id, bytes.length, sha256(bytes))).toMatchObject({ outcome: "stored", sha256: sha256(bytes) });
  });

  it("answers checksum_mismatch and stores nothing when the bytes do not match", async () => {
    const eager = new EagerAssembler(staging, store, 4);
    const transfer = { id: randomUUID(), objectKey: "sessions/R/1/d.bin", contentType: "application/octet-stream" };
    const bytes = randomBytes(10_000);
    await stage(eager, transfer, bytes, [[0, 10_000]], true);
    expect(await eager.finish(transfer.id, bytes.length, "0".repeat(64))).toEqual({ outcome: "checksum_mismatch", sha256: sha256(bytes) });
    expect(await store.head("sessions/R/1/d.bin")).toBeNull();
  });
});
