/**
 * What a presigned form may do, and which names a device may use, against a real worker, fs
 * store and PostgreSQL: a form stores one upload, into a session that is still open; storage that
 * holds other bytes than recorded is noticed and audited; names that hide or change what they are
 * (`${…}`, bidi controls, two spellings of one name, a file that is also a folder) are refused
 * with a protocol error, never a 500.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZErrorResponseSchema } from "@fleetdrop/shared/protocol/common";
import { ZUploadResponseSchema, type TUploadResponse } from "@fleetdrop/shared/protocol/upload";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, rawDevice, type THarness } from "./harness";
import { storedBytes } from "./support/stored";
import { postContent } from "./support/forms";

let h: THarness;
let a: Awaited<ReturnType<typeof rawDevice>>;
let tmp: string;

beforeAll(async () => {
  h = await createHarness("upload-trust");
  await h.startWorker();
  a = await rawDevice(h.broker, "ROBOT-A");
  tmp = await mkdtemp(path.join(tmpdir(), "fd-upload-trust-"));
});

afterAll(async () => {
  await a?.close();
  await h?.close();
});

async function form(sessionId: number, filename: string, extra: Record<string, unknown> = {}): Promise<TUploadResponse> {
  return ZUploadResponseSchema.parse(await a.ask("file_upload/request", { session_id: sessionId, filename, ...extra }));
}

const post = (upload: TUploadResponse, content: string) => postContent(upload, content, tmp);

const stored = async (key: string) => (await storedBytes(h.store, key))?.toString() ?? null;

async function newSession(): Promise<number> {
  const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-A" } });
  return (await h.prisma.session.create({ data: { deviceId: device.id, projectId: h.seed.projectId, name: "s" } })).id;
}

const fileOf = (sessionId: number, filename: string) =>
  h.prisma.file.findUnique({ where: { sessionId_filename: { sessionId, filename } } });

describe("a form stores one upload", () => {
  it("refuses a second POST of a used form (412) and keeps the first bytes and their ETag", async () => {
    const upload = await form(h.seed.openA, "once.txt");
    expect(await post(upload, "first")).toEqual({ status: 204 });
    const recorded = await fileOf(h.seed.openA, "once.txt");
    expect(recorded).toMatchObject({ state: "uploaded", size: 5n });

    expect(await post(upload, "second, longer")).toEqual({ status: 412, code: "PreconditionFailed" });
    expect(await stored(upload.object_key)).toBe("first");
    expect(await fileOf(h.seed.openA, "once.txt")).toMatchObject({ state: "uploaded", size: 5n, etag: recorded!.etag });
  });

  it("lets a form asked for with overwrite replace the file once", async () => {
    const first = await form(h.seed.openA, "replace.txt");
    expect(await post(first, "v1")).toEqual({ status: 204 });
    const again = await form(h.seed.openA, "replace.txt", { overwrite: true });
    expect(await post(again, "v2")).toEqual({ status: 204 });
    expect(await stored(again.object_key)).toBe("v2");
    expect(await post(again, "v3")).toEqual({ status: 412, code: "PreconditionFailed" });
    expect(await post(first, "v4")).toEqual({ status: 412, code: "PreconditionFailed" });
    expect(await stored(again.object_key)).toBe("v2");
  });

  it("stores exactly one of two POSTs of one form sent at once", async () => {
    const upload = await form(h.seed.openA, "race.txt");
    const results = await Promise.all([post(upload, "left"), post(upload, "right")]);
    expect(results.map((r) => r.status).sort((a, b) => a - b)).toEqual([204, 412]);
    const winner = results[0].status === 204 ? "left" : "right";
    expect(await stored(upload.object_key)).toBe(winner);
  });

  it("refuses an upload into a session closed since the form was issued (403), pending or used", async () => {
    const sessionId = await newSession();
    const unused = await form(sessionId, "late.txt");
    const used = await form(sessionId, "done.txt");
    expect(await post(used, "kept")).toEqual({ status: 204 });
    await h.prisma.session.update({ where: { id: sessionId }, data: { state: "closed", endedAt: new Date() } });

    expect(await post(unused, "late")).toEqual({ status: 403, code: "AccessDenied" });
    expect(await h.store.head(unused.object_key)).toBeNull();
    expect(await fileOf(sessionId, "late.txt")).toMatchObject({ state: "pending" });
    expect((await post(used, "replaced")).status).toBeGreaterThanOrEqual(400);
    expect(await stored(used.object_key)).toBe("kept");
  });

  it("notices bytes replaced behind its back: keeps the recorded ETag and writes an audit entry", async () => {
    const upload = await form(h.seed.openA, "swapped.txt");
    expect(await post(upload, "original")).toEqual({ status: 204 });
    const recorded = await fileOf(h.seed.openA, "swapped.txt");
    // What a second POST of the form does on S3, which has no conditional POST.
    await h.store.put(upload.object_key, "tampered bytes", { contentType: "application/octet-stream" });

    const answer = await a.ask("file_upload/complete", { object_key: upload.object_key });
    expect(answer).toMatchObject({ success: true, state: "uploaded", size: 8, etag: recorded!.etag });
    expect(await fileOf(h.seed.openA, "swapped.txt")).toMatchObject({ size: 8n, etag: recorded!.etag });
    const audit = await h.prisma.auditLog.findFirst({ where: { action: "file.object_replaced", targetId: recorded!.id } });
    expect(audit).toMatchObject({ actorLabel: "ROBOT-A", targetType: "file" });
    expect(audit!.details).toMatchObject({
      object_key: upload.object_key,
      recorded: { etag: recorded!.etag, size: 8 },
      found: { size: 14 },
    });
  });
});

describe("file names", () => {
  it.each([
    ["${filename}", "${filename}"],
    ["a key variable in a folder", "logs/${filename}.txt"],
    ["a right-to-left override", "invoice\u202egpj.exe"],
    ["a bidi isolate", "a\u2066b\u2069.txt"],
    ["a left-to-right mark", "a\u200e.txt"],
    ["an Arabic letter mark", "a\u061c.txt"],
    ["a zero-width space", "a\u200b.txt"],
  ])("refuses %s with 400 invalid_filename and records nothing", async (_label, filename) => {
    const before = await h.prisma.file.count();
    const answer = await a.ask("file_upload/request", { session_id: h.seed.openA, filename });
    expect(ZErrorResponseSchema.parse(answer)).toMatchObject({ status: 400, code: "invalid_filename" });
    expect(await h.prisma.file.count()).toBe(before);
  });

  it("normalises names to NFC: the decomposed spelling is the same file", async () => {
    const composed = "caf\u00e9.txt";
    const decomposed = "cafe\u0301.txt";
    const first = await form(h.seed.openA, decomposed);
    expect(first.object_key).toBe(`sessions/ROBOT-A/${h.seed.openA}/${composed}`);
    const second = await form(h.seed.openA, composed);
    expect(second.file_id).toBe(first.file_id);
    expect(await post(second, "x")).toEqual({ status: 204 });
    expect(await a.ask("file_upload/request", { session_id: h.seed.openA, filename: decomposed })).toMatchObject({
      status: 409,
      code: "file_exists",
    });
    expect(await h.prisma.file.count({ where: { sessionId: h.seed.openA, filename: decomposed } })).toBe(0);
  });

  it("refuses a name that is a folder of another file of the session, or lies in one (409 path_conflict)", async () => {
    const sessionId = await newSession();
    await form(sessionId, "a");
    expect(await a.ask("file_upload/request", { session_id: sessionId, filename: "a/b.txt" })).toMatchObject({
      status: 409,
      code: "path_conflict",
    });
    await form(sessionId, "x/y/z.txt");
    expect(await a.ask("file_upload/request", { session_id: sessionId, filename: "x/y" })).toMatchObject({
      status: 409,
      code: "path_conflict",
    });
    expect(await a.ask("file_upload/request", { session_id: sessionId, filename: "x" })).toMatchObject({
      status: 409,
      code: "path_conflict",
    });
    // Not a clash: a sibling, a longer name, the same name again.
    await form(sessionId, "x/y/w.txt");
    await form(sessionId, "ab");
    await form(sessionId, "a");
    // Both sent at once (one batch): one of the two is refused.
    const pair = await Promise.all([
      a.ask("file_upload/request", { session_id: sessionId, filename: "m" }),
      a.ask("file_upload/request", { session_id: sessionId, filename: "m/n.txt" }),
    ]);
    expect(pair.map((answer) => Number(answer.status)).sort((x, y) => x - y)).toEqual([200, 409]);
    expect(await h.prisma.file.count({ where: { sessionId, filename: { in: ["a/b.txt", "x/y", "x"] } } })).toBe(0);
  });

  it("answers every hostile name and payload with a 4xx, never a 500, and records no file for a refusal", async () => {
    const sessionId = await newSession();
    const names: unknown[] = [
      "${filename}",
      "$" + "{",
      "a/${x}",
      "%{filename}",
      "${{}}",
      "\u202e",
      "\u202a\u202b\u202c\u202d",
      "\u2066\u2067\u2068\u2069",
      "\u200e\u200f\u061c",
      "\ufeff",
      "\u2028",
      "\u2029",
      "\ud800",
      "\udfff",
      "a\ud83d",
      "\u0000",
      "\u0085",
      "\u001b[31mred",
      "",
      " ",
      ".",
      "..",
      "./",
      "../../etc/passwd",
      "a/./b",
      "a//b",
      "/",
      "//",
      "\\",
      "C:\\x",
      "a\\..\\b",
      "%2e%2e/x",
      "..%2fx",
      "n".repeat(255),
      "n".repeat(256),
      "é".repeat(128),
      "😀".repeat(64),
      "a/".repeat(127) + "a",
      `${"x".repeat(255)}/y`,
      "<script>",
      "'; DROP TABLE files; --",
      "a\u0301".repeat(100),
      "\u1e9b\u0323",
      "\uff0e\uff0e/x",
      "CON",
      "nul.txt",
      "a\u200d",
      "ﷺ".repeat(100),
      "\u0958".repeat(90),
      "a".repeat(100000),
      42,
      null,
      true,
      [],
      {},
      ["a"],
      { name: "a" },
    ];
    const payloads: Record<string, unknown>[] = [
      ...names.map((filename) => ({ session_id: sessionId, filename })),
      { session_id: sessionId, filename: "ok.bin", size_mb: 1e308 },
      { session_id: sessionId, filename: "ok.bin", size_mb: -1 },
      { session_id: sessionId, filename: "ok.bin", size_mb: 1.5 },
      { session_id: sessionId, filename: "ok.bin", content_type: 'a/b; x="${filename}"' },
      { session_id: sessionId, filename: "ok.bin", content_type: "text/plain\r\nX-Evil: 1" },
      { session_id: sessionId, filename: "ok.bin", overwrite: "yes" },
      { session_id: 2 ** 31, filename: "ok.bin" },
      { session_id: 2 ** 53, filename: "ok.bin" },
      { session_id: -1, filename: "ok.bin" },
      { session_id: sessionId, filename: "ok.bin", request_id: "x".repeat(65) },
    ];
    for (const payload of payloads) {
      // One at a time, matched by order: some refusals (text PostgreSQL cannot hold) echo no request_id.
      a.inbox.length = 0;
      await a.send("file_upload/request", payload);
      const answer = (await a.next()).body;
      expect(answer.status, JSON.stringify(payload).slice(0, 200)).toBeLessThan(500);
      if (answer.success !== true) {
        expect(answer.code, JSON.stringify(payload).slice(0, 200)).toEqual(expect.any(String));
      }
    }
    const rows = await h.prisma.file.findMany({ where: { sessionId }, select: { filename: true } });
    for (const { filename } of rows) expect(filename).toBe(filename.normalize("NFC"));
  });
});
