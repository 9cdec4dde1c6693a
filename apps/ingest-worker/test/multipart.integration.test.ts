/**
 * Multipart uploads (docs/protocol.md#multipart-uploads) against a real worker, fs store behind
 * its endpoint and PostgreSQL: parts PUT in parallel and out of order, a device that "reboots"
 * and asks what is held, completion with size and SHA-256 checks, abort, the expiry sweep, a
 * completion cut off by a dying worker, and what a hostile device tries.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { ZErrorResponseSchema, ZFileExistsResponseSchema } from "@fleetdrop/shared/protocol/common";
import { ZMultipartPageSchema, type TMultipartPage } from "@fleetdrop/shared/protocol/multipart";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TIngestWorker } from "../src/worker";
import { createHarness, rawDevice, type THarness } from "./harness";

const MIB = 1024 * 1024;
const PART = 5 * MIB;

let h: THarness;
let worker: TIngestWorker;
let a: Awaited<ReturnType<typeof rawDevice>>;
let b: Awaited<ReturnType<typeof rawDevice>>;
let sql: pg.Client;

beforeAll(async () => {
  h = await createHarness("multipart");
  worker = await h.startWorker({ multipart: { heartbeatSeconds: 1 } });
  a = await rawDevice(h.broker, "ROBOT-A");
  b = await rawDevice(h.broker, "ROBOT-B");
  sql = new pg.Client({ connectionString: h.db.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await a?.close();
  await b?.close();
  await h?.close();
});

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

function fileOf(parts: number, last = 1000): Buffer {
  return randomBytes((parts - 1) * PART + last);
}

async function create(filename: string, content: Buffer, extra: Record<string, unknown> = {}): Promise<TMultipartPage> {
  return ZMultipartPageSchema.parse(
    await a.ask("file_upload/multipart/create", { session_id: h.seed.openA, filename, size: content.length, part_size: PART, ...extra }),
  );
}

function partOf(content: Buffer, n: number): Buffer {
  return content.subarray((n - 1) * PART, Math.min(n * PART, content.length));
}

async function put(url: string, body: Buffer): Promise<{ status: number; code?: string }> {
  const response = await fetch(url, { method: "PUT", body, headers: { "Content-Length": String(body.length) } });
  const text = await response.text();
  return { status: response.status, ...(response.ok ? {} : { code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] }) };
}

async function fileRow(objectKey: string) {
  const result = await sql.query<{ state: string; size: string | null }>(
    "SELECT state::text AS state, size FROM files WHERE object_key = $1",
    [objectKey],
  );
  return result.rows[0];
}

async function uploadsHeld(): Promise<string[]> {
  return readdir(path.join(h.storeDir, "fleetdrop", "multipart")).catch(() => []);
}

describe("multipart uploads through the fs store", () => {
  it("takes parts in parallel and out of order, tells a restarted device what it holds, completes checking size and SHA-256", async () => {
    const content = fileOf(3);
    const created = await create("video/run-1.mcap", content, { sha256: sha256(content), content_type: "video/mp4" });
    expect(created.part_count).toBe(3);
    expect(created.held).toEqual([]);
    expect(created.parts.map((part) => part.part_number)).toEqual([1, 2, 3]);
    expect(created.next_part).toBeNull();
    expect((await fileRow(created.object_key))?.state).toBe("pending");

    // Parts 3 and 1, in parallel; then the device "reboots" and asks what is held.
    const urls = new Map(created.parts.map((part) => [part.part_number, part.url]));
    const answers = await Promise.all([3, 1].map((n) => put(urls.get(n)!, partOf(content, n))));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const resumed = ZMultipartPageSchema.parse(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id }));
    expect(resumed.held).toEqual([1, 3]);
    expect(resumed.parts.map((part) => part.part_number)).toEqual([2]);

    const early = ZErrorResponseSchema.passthrough().parse(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id }));
    expect(early).toMatchObject({ status: 409, code: "incomplete", missing: [2] });

    expect((await put(resumed.parts[0]!.url, partOf(content, 2))).status).toBe(200);
    const done = await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id });
    expect(done).toMatchObject({ success: true, state: "uploaded", size: content.length, file_id: created.file_id });
    expect(await fileRow(created.object_key)).toEqual({ state: "uploaded", size: String(content.length) });
    // The checked digest and the way it came are what the file page shows.
    const shown = await sql.query<{ sha256: string | null; arrived_via: string | null }>(
      "SELECT sha256, arrived_via FROM files WHERE object_key = $1",
      [created.object_key],
    );
    expect(shown.rows[0]).toEqual({ sha256: sha256(content), arrived_via: "multipart" });
    const opened = await h.store.open(created.object_key);
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(content));

    // Completing again answers the same; the upload takes no more parts and cannot be aborted.
    expect(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id })).toMatchObject({
      success: true,
      etag: done.etag,
    });
    expect(await put(urls.get(1)!, partOf(content, 1))).toMatchObject({ status: 403 });
    expect(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id })).toMatchObject({ code: "multipart_completed" });
    expect(await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id })).toMatchObject({ code: "multipart_completed" });

    // The name is taken now: a create for it says what is stored there, so the device can tell its own file.
    const taken = ZFileExistsResponseSchema.parse(
      await a.ask("file_upload/multipart/create", { session_id: h.seed.openA, filename: "video/run-1.mcap", size: 10 * PART }),
    );
    expect(taken.existing).toMatchObject({ size: content.length, sha256: sha256(content) });
    expect(Date.parse(taken.existing.uploaded_at!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("resumes the open upload when the same file is created again, and replaces it when another file takes the name", async () => {
    const content = fileOf(2);
    const created = await create("again.bin", content);
    expect((await put(created.parts[0]!.url, partOf(content, 1))).status).toBe(200);
    const again = await create("again.bin", content);
    expect(again).toMatchObject({ upload_id: created.upload_id, held: [1] });
    expect(again.parts.map((part) => part.part_number)).toEqual([2]);
    const other = await create("again.bin", fileOf(3));
    expect(other.upload_id).not.toBe(created.upload_id);
    expect(other.held).toEqual([]);
    expect(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id })).toMatchObject({ code: "multipart_not_found" });
    await a.ask("file_upload/multipart/abort", { upload_id: other.upload_id });
  });

  it("refuses a file whose SHA-256 differs with checksum_mismatch and keeps nothing", async () => {
    const content = fileOf(2);
    const created = await create("bad-sum.bin", content, { sha256: "0".repeat(64) });
    for (const part of created.parts) expect((await put(part.url, partOf(content, part.part_number))).status).toBe(200);
    expect(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id })).toMatchObject({
      status: 400,
      code: "checksum_mismatch",
    });
    expect(await h.store.head(created.object_key)).toBeNull();
    expect((await fileRow(created.object_key))?.state).toBe("failed");
    expect(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id })).toMatchObject({ code: "multipart_not_found" });
  });

  it("aborts: the parts leave the disk and the upload is gone", async () => {
    const content = fileOf(2);
    const created = await create("abort-me.bin", content);
    expect((await put(created.parts[0]!.url, partOf(content, 1))).status).toBe(200);
    expect(await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id })).toMatchObject({ success: true, state: "aborted" });
    expect(await uploadsHeld()).toEqual([]);
    expect(await put(created.parts[1]!.url, partOf(content, 2))).toMatchObject({ status: 403 });
    expect(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id })).toMatchObject({ code: "multipart_not_found" });
    expect(await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id })).toMatchObject({ success: true });
  });

  it("aborts uploads idle past their expiry in the sweep, leaving no parts behind", async () => {
    const content = fileOf(2);
    const created = await create("idle.bin", content);
    expect((await put(created.parts[0]!.url, partOf(content, 1))).status).toBe(200);
    expect((await worker.multipartSweepNow()).aborted).toBe(0);
    await sql.query("UPDATE multipart_uploads SET expires_at = now() - interval '1 second' WHERE id = $1", [created.upload_id]);
    expect((await worker.multipartSweepNow()).aborted).toBe(1);
    expect(await uploadsHeld()).toEqual([]);
    expect(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id })).toMatchObject({ code: "multipart_not_found" });
  });

  it("finishes a completion whose worker died after storage joined the parts, and one that died before", async () => {
    for (const joinedBeforeDeath of [true, false]) {
      const content = fileOf(2);
      const created = await create(`crash-${joinedBeforeDeath}.bin`, content, { sha256: sha256(content) });
      for (const part of created.parts) expect((await put(part.url, partOf(content, part.part_number))).status).toBe(200);
      const row = await sql.query<{ store_upload_id: string }>("SELECT store_upload_id FROM multipart_uploads WHERE id = $1", [
        created.upload_id,
      ]);
      if (joinedBeforeDeath) {
        const parts = await h.store.listParts(created.object_key, row.rows[0]!.store_upload_id);
        await h.store.completeMultipart(created.object_key, row.rows[0]!.store_upload_id, parts);
      }
      // The worker claimed the completion and died: its heartbeat stopped a while ago.
      await sql.query("UPDATE multipart_uploads SET state = 'completing', updated_at = now() - interval '1 hour' WHERE id = $1", [
        created.upload_id,
      ]);
      expect((await worker.multipartSweepNow()).completed).toBe(1);
      expect((await fileRow(created.object_key))?.state).toBe("uploaded");
      expect(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id })).toMatchObject({
        success: true,
        size: content.length,
      });
    }
  });

  it("drops the upload of a session closed since, and refuses its parts", async () => {
    const session = await h.prisma.session.create({
      data: {
        deviceId: (await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-A" } })).id,
        projectId: h.seed.projectId,
        name: "x",
      },
    });
    const content = fileOf(2);
    const created = ZMultipartPageSchema.parse(
      await a.ask("file_upload/multipart/create", { session_id: session.id, filename: "late.bin", size: content.length, part_size: PART }),
    );
    expect((await put(created.parts[0]!.url, partOf(content, 1))).status).toBe(200);
    await h.prisma.session.update({ where: { id: session.id }, data: { state: "closed", endedAt: new Date() } });
    expect(await put(created.parts[1]!.url, partOf(content, 2))).toMatchObject({ status: 403 });
    expect(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id })).toMatchObject({ code: "session_closed" });
    expect(await a.ask("file_upload/multipart/complete", { upload_id: created.upload_id })).toMatchObject({ code: "session_closed" });
    expect(await h.store.head(created.object_key)).toBeNull();
  });
});

describe("what a hostile device tries", () => {
  it("cannot see, complete or abort another device's upload", async () => {
    const content = fileOf(2);
    const created = await create("mine.bin", content);
    for (const op of ["parts", "complete", "abort"])
      expect(await b.ask(`file_upload/multipart/${op}`, { upload_id: created.upload_id })).toMatchObject({
        status: 404,
        code: "multipart_not_found",
      });
    expect(await b.ask("file_upload/multipart/parts", { upload_id: "../../etc" })).toMatchObject({ code: "invalid_upload_id" });
    await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id });
  });

  it("is refused sizes, part sizes and part numbers out of range, with the field's code", async () => {
    const base = { session_id: h.seed.openA, filename: "x.bin" };
    expect(await a.ask("file_upload/multipart/create", { ...base, size: 2 * 1024 ** 4 })).toMatchObject({
      status: 413,
      code: "file_too_large",
    });
    expect(await a.ask("file_upload/multipart/create", { ...base, size: 0 })).toMatchObject({ code: "invalid_file_size" });
    expect(await a.ask("file_upload/multipart/create", { ...base, size: 10 * MIB, part_size: MIB })).toMatchObject({
      code: "invalid_part_size",
    });
    expect(await a.ask("file_upload/multipart/create", { ...base, size: 10_001 * PART, part_size: PART })).toMatchObject({
      code: "invalid_part_size",
    });
    expect(await a.ask("file_upload/multipart/create", { ...base, size: 10 * MIB, sha256: "xyz" })).toMatchObject({
      code: "invalid_checksum",
    });
    expect(await a.ask("file_upload/multipart/create", { ...base, session_id: h.seed.openB, size: 10 * MIB })).toMatchObject({
      code: "session_not_owned",
    });
    expect(await a.ask("file_upload/multipart/create", { ...base, session_id: h.seed.closedA, size: 10 * MIB })).toMatchObject({
      code: "session_closed",
    });
    const content = fileOf(2);
    const created = await create("range.bin", content);
    for (const first_part of [0, 3, 10_001])
      expect(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id, first_part })).toMatchObject({
        code: "invalid_part_number",
      });
    await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id });
  });

  it("cannot use a forged or altered part URL, nor send a part of the wrong size", async () => {
    const content = fileOf(2);
    const created = await create("forged.bin", content);
    const url = created.parts[0]!.url;
    expect(await put(url.replace("partNumber=1", "partNumber=2"), partOf(content, 2))).toMatchObject({ status: 403 });
    expect(await put(url.replace(/uploadId=[0-9a-f]+/, `uploadId=${"0".repeat(32)}`), partOf(content, 1))).toMatchObject({ status: 403 });
    expect(await put(url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${"0".repeat(64)}`), partOf(content, 1))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    expect(await put(url, Buffer.concat([partOf(content, 1), Buffer.from("x")]))).toMatchObject({ status: 400, code: "EntityTooLarge" });
    expect(await put(url, partOf(content, 1).subarray(1))).toMatchObject({ status: 400, code: "IncompleteBody" });
    const parts = ZMultipartPageSchema.parse(await a.ask("file_upload/multipart/parts", { upload_id: created.upload_id }));
    expect(parts.held).toEqual([]);
    await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id });
  });

  it("cannot use an expired part URL", async () => {
    const content = fileOf(2);
    const created = await create("expiring.bin", content);
    const row = await sql.query<{ store_upload_id: string }>("SELECT store_upload_id FROM multipart_uploads WHERE id = $1", [
      created.upload_id,
    ]);
    const url = await h.store.presignPart({ key: created.object_key, uploadId: row.rows[0]!.store_upload_id, partNumber: 1, expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await put(url, partOf(content, 1))).toMatchObject({ status: 403, code: "AccessDenied" });
    await a.ask("file_upload/multipart/abort", { upload_id: created.upload_id });
  });
});
