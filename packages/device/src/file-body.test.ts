import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileBody } from "./file-body";
import { collectFileBody } from "./test-support/file-body";

let dir: string;
let file: string;
const bytes = randomBytes(5 * 1024 * 1024 + 123);
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-file-body-"));
  file = path.join(dir, "data.bin");
  await writeFile(file, bytes);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileBody", () => {
  it("sends exactly the range asked for, between head and tail, though it reuses its buffers", async () => {
    const start = 777;
    const length = 4 * 1024 * 1024 + 5;
    const sent = await collectFileBody({ path: file, start, length, head: Buffer.from("HEAD"), tail: Buffer.from("TAIL") });
    expect(sent.length).toBe(4 + length + 4);
    expect(sent.subarray(0, 4).toString()).toBe("HEAD");
    expect(sent.subarray(4, 4 + length).equals(bytes.subarray(start, start + length))).toBe(true);
    expect(sent.subarray(4 + length).toString()).toBe("TAIL");
  });

  it("asks the throttle for every byte, and counts what the target took", async () => {
    let asked = 0;
    const counts: number[] = [];
    const sink = new Writable({ write: (_chunk, _encoding, callback) => setImmediate(callback) });
    await writeFileBody(
      sink,
      { path: file, start: 0, length: bytes.length },
      async (n) => {
        asked += n;
      },
      (sent) => counts.push(sent),
    );
    expect(asked).toBe(bytes.length);
    expect(counts.at(-1)).toBe(bytes.length);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it("fails, and stops reading, when the target breaks mid-body", async () => {
    let writes = 0;
    const sink = new Writable({
      write(_chunk, _encoding, callback) {
        if (++writes === 2) callback(new Error("connection reset"));
        else setImmediate(callback);
      },
    });
    sink.on("error", () => {});
    await expect(writeFileBody(sink, { path: file, start: 0, length: bytes.length }, null, () => {})).rejects.toThrow(/connection reset/);
    expect(writes).toBeLessThan(5);
  });

  it("fails on a file shorter than the range it was to send", async () => {
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    await expect(writeFileBody(sink, { path: file, start: bytes.length - 10, length: 20 }, null, () => {})).rejects.toThrow(/shorter/);
  });
});
