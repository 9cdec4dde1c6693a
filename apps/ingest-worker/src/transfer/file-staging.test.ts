import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adjacentRuns, FileStaging } from "./file-staging";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-file-staging-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Staging files this process holds open. */
async function openStagingFiles(): Promise<string[]> {
  const links = await Promise.all((await readdir("/proc/self/fd")).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")));
  return links.filter((link) => link.startsWith(dir) && link.endsWith(".part"));
}

describe("FileStaging", () => {
  it("writes segments at their offsets, in any order and in one or several batches", async () => {
    const staging = new FileStaging(dir);
    const id = randomUUID();
    const bytes = randomBytes(300_000);
    const at = (offset: number, end: number) => ({ transferId: id, offset, data: bytes.subarray(offset, end) });
    await staging.write([at(200_000, 300_000), at(0, 50_000)]);
    await staging.write([at(100_000, 200_000), at(50_000, 100_000)]);
    expect((await readFile(staging.pathOf(id))).equals(bytes)).toBe(true);
    await staging.close();
  });

  it("writes 4 KiB-aligned runs around the page cache (O_DIRECT) and the others through it, with the same result", async () => {
    const staging = new FileStaging(dir);
    const id = randomUUID();
    const segment = 64 * 1024;
    const bytes = randomBytes(5 * segment + 1000); // five aligned segments and an unaligned tail
    const at = (offset: number, end: number) => ({ transferId: id, offset, data: bytes.subarray(offset, end) });
    await staging.write([at(0, segment), at(segment, 2 * segment), at(3 * segment, 4 * segment)]);
    await staging.write([at(5 * segment, bytes.length), at(2 * segment, 3 * segment), at(4 * segment, 5 * segment)]);
    // Unaligned: a segment that starts off a 4 KiB boundary, and one whose length is not a multiple of it.
    await staging.write([at(100, 5000)]);
    expect((await readFile(staging.pathOf(id))).equals(bytes)).toBe(true);
    // The aligned part of the run that ends the file went directly, its last 1000 bytes did not.
    expect(staging.written).toEqual({ direct: 5 * segment, buffered: 1000 + 4900 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await openStagingFiles()).toEqual([]);
  });

  it("writes through the page cache where the filesystem refuses O_DIRECT, and on a tmpfs", async () => {
    const shm = await mkdtemp("/dev/shm/fd-file-staging-");
    try {
      const staging = new FileStaging(shm);
      const id = randomUUID();
      const bytes = randomBytes(3 * 65536);
      await staging.write([
        { transferId: id, offset: 65536, data: bytes.subarray(65536) },
        { transferId: id, offset: 0, data: bytes.subarray(0, 65536) },
      ]);
      expect((await readFile(staging.pathOf(id))).equals(bytes)).toBe(true);
      expect(staging.written.direct + staging.written.buffered).toBe(bytes.length);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });

  it("keeps no staging file open once its batch is written", async () => {
    const staging = new FileStaging(dir);
    const ids = [randomUUID(), randomUUID()];
    await Promise.all(ids.map((id, i) => staging.write([{ transferId: id, offset: 0, data: Buffer.from(`file ${i}`) }])));
    await staging.write([{ transferId: ids[0]!, offset: 6, data: Buffer.from("!") }]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // closes are not waited for
    expect(await openStagingFiles()).toEqual([]);
    expect(await readFile(staging.pathOf(ids[0]!), "utf8")).toBe("file 0!");
  });

  it("waits for the writes in progress on a file (before it is adopted or removed)", async () => {
    const staging = new FileStaging(dir);
    const id = randomUUID();
    const big = randomBytes(8 * 1024 * 1024);
    const writing = staging.write([{ transferId: id, offset: 0, data: big }]);
    await new Promise((resolve) => setImmediate(resolve));
    await staging.idle(id);
    // Every byte is there as soon as idle() resolves.
    expect((await readFile(staging.pathOf(id))).equals(big)).toBe(true);
    await writing;
    await staging.write([{ transferId: id, offset: big.length, data: Buffer.from("tail") }]);
    await staging.remove(id);
    expect(await openStagingFiles()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("adjacentRuns", () => {
  it("records segments of a transfer that follow each other as one range, in any order of arrival", () => {
    const a = "00000000-0000-4000-8000-00000000000a";
    const b = "00000000-0000-4000-8000-00000000000b";
    const k = 65536;
    const ranges = (segments: Parameters<typeof adjacentRuns>[0]) =>
      adjacentRuns(segments).map(({ transferId, offset, length }) => ({ transferId, offset, length }));
    expect(
      ranges([
        { transferId: a, offset: 2 * k, length: k },
        { transferId: b, offset: 0, length: 100 },
        { transferId: a, offset: 0, length: k },
        { transferId: a, offset: k, length: k },
        { transferId: a, offset: 5 * k, length: k }, // after a gap
        { transferId: b, offset: 100, length: 50 },
        { transferId: b, offset: 120, length: 80 }, // overlaps: its own range
      ]),
    ).toEqual([
      { transferId: a, offset: 0, length: 3 * k },
      { transferId: a, offset: 5 * k, length: k },
      { transferId: b, offset: 0, length: 150 },
      { transferId: b, offset: 120, length: 80 },
    ]);
  });
});
