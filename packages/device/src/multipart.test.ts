import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectFileBody } from "./test-support/file-body";
import { multipartBody } from "./multipart";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-multipart-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("multipartBody", () => {
  it("puts every field before the file part named `file`, and knows its exact length", async () => {
    const file = path.join(dir, "a.bin");
    const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45]);
    await writeFile(file, bytes);
    const body = multipartBody(
      { key: "sessions/R/1/a.bin", "Content-Type": "application/octet-stream", policy: "cG9saWN5" },
      {
        path: file,
        size: bytes.length,
        filename: "a.bin",
        contentType: "application/octet-stream",
      },
    );
    const raw = await collectFileBody(body.body);
    expect(raw.length).toBe(body.length);
    const text = raw.toString("latin1");
    const parts = text.split(`--${body.boundary}`);
    // preamble "", three fields, the file, and the closing "--\r\n"
    expect(parts).toHaveLength(6);
    expect(parts[1]).toContain('name="key"\r\n\r\nsessions/R/1/a.bin\r\n');
    expect(parts[2]).toContain('name="Content-Type"\r\n\r\napplication/octet-stream\r\n');
    expect(parts[3]).toContain('name="policy"');
    expect(parts[4]).toContain('name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n');
    expect(parts[5]).toBe("--\r\n");
    // The file's bytes sit right after the head, unchanged.
    expect(raw.subarray(body.headLength, body.headLength + bytes.length).equals(bytes)).toBe(true);
  });

  it("cannot be broken out of by a quote or a line break in a file name", async () => {
    const file = path.join(dir, "b.txt");
    await writeFile(file, "x");
    const body = multipartBody({}, { path: file, size: 1, filename: 'evil"\r\nX-Injected: 1.txt', contentType: "text/plain" });
    const text = (await collectFileBody(body.body)).toString("latin1");
    expect(text).not.toContain("\r\nX-Injected");
    expect(text).toContain('filename="evil%22%0D%0AX-Injected: 1.txt"');
  });

  it("uses a fresh boundary per body", () => {
    const a = multipartBody({}, { path: "/dev/null", size: 0, filename: "x", contentType: "text/plain" });
    const b = multipartBody({}, { path: "/dev/null", size: 0, filename: "x", contentType: "text/plain" });
    expect(a.boundary).not.toBe(b.boundary);
  });
});
