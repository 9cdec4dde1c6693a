/**
 * File transfer over MQTT (docs/protocol.md#file_transfer) end to end: a real Mosquitto,
 * PostgreSQL staging, the fs store. Segments in any order, duplicates and overlaps, status ranges,
 * incomplete fin, checksum, limits, abort, TTL, and a worker restart in the middle of a transfer.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPgPool } from "@fleetdrop/db/pool";
import { ZTransferResponseSchema } from "@fleetdrop/shared/protocol/transfer";
import { ZFileExistsResponseSchema } from "@fleetdrop/shared/protocol/common";
import type { Store } from "@fleetdrop/storage/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reopenForOverwrite } from "../src/transfer/overwrite";
import type { TIngestWorker } from "../src/worker";
import { createHarness, sleep, type THarness } from "./harness";
import { storedBytes } from "./support/stored";
import { randomFile, shuffledSegments, transferDevice } from "./transfer-device";

// Both staging modes run the same suite: segment bytes in PostgreSQL, or in files (TRANSFER_STAGING_DIR).
describe.each([
  ["PostgreSQL", false],
  ["files", true],
] as const)("file transfer over MQTT, segments staged in %s", (mode, inFiles) => {
  let h: THarness;
  let worker: TIngestWorker;
  let a: Awaited<ReturnType<typeof transferDevice>>;
  let stagingDir: string | null = null;
  let LIMITS: { maxFileBytes: number; maxSegmentBytes: number; maxActivePerDevice: number; ttlSeconds: number; stagingDir: string | null };

  beforeAll(async () => {
    h = await createHarness(`transfer-${inFiles ? "files" : "pg"}`);
    stagingDir = inFiles ? await mkdtemp(path.join(tmpdir(), "fd-staging-")) : null;
    LIMITS = { maxFileBytes: 4 * 1024 * 1024, maxSegmentBytes: 256 * 1024, maxActivePerDevice: 8, ttlSeconds: 3600, stagingDir };
    worker = await h.startWorker({ transfer: LIMITS });
    a = await transferDevice(h.broker, "ROBOT-A");
  });

  afterAll(async () => {
    await a?.close();
    await h?.close();
    if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
  });

  const stored = (key: string) => storedBytes(h.store, key);

  describe(`${mode} staging`, () => {
    it("assembles segments sent in random order, with duplicates and overlaps, and verifies size and SHA-256", async () => {
      const { bytes, sha256 } = randomFile(1_000_003);
      const init = await a.init("photo1", {
        session_id: h.seed.openA,
        name: "cam/photo1.jpg",
        size: bytes.length,
        content_type: "image/jpeg",
        checksum: sha256,
        user_data: { lens: "wide", frame: 12 },
      });
      expect(ZTransferResponseSchema.parse(init)).toMatchObject({
        success: true,
        status: 200,
        command: "init",
        file_id: "photo1",
        received: [],
      });

      const segments = shuffledSegments(bytes, 65_536);
      for (const [offset, chunk] of segments) await a.segment("photo1", offset, chunk);
      // Duplicates and overlapping re-sends at other offsets change nothing.
      await a.segment("photo1", segments[0]![0], segments[0]![1]);
      await a.segment("photo1", 1000, bytes.subarray(1000, 200_000));
      await a.segment("photo1", 0, bytes.subarray(0, 10));

      const status = await a.status("photo1");
      expect(status).toMatchObject({
        success: true,
        command: "status",
        state: "active",
        size: bytes.length,
        received: [[0, bytes.length]],
      });

      const fin = await a.fin("photo1", bytes.length, sha256);
      expect(ZTransferResponseSchema.parse(fin)).toMatchObject({
        success: true,
        status: 200,
        command: "fin",
        sha256,
        size: bytes.length,
        object_key: `sessions/ROBOT-A/${h.seed.openA}/cam/photo1.jpg`,
      });
      expect((await stored(fin.object_key as string))!.equals(bytes)).toBe(true);
      const file = await h.prisma.file.findUnique({
        where: { sessionId_filename: { sessionId: h.seed.openA, filename: "cam/photo1.jpg" } },
      });
      expect(file).toMatchObject({
        state: "uploaded",
        size: BigInt(bytes.length),
        sha256,
        arrivedVia: "mqtt_transfer",
        contentType: "image/jpeg",
        userData: { lens: "wide", frame: 12 },
      });

      // A repeated fin (QoS 1 duplicate) gets the same answer; re-using the file_id is a 409.
      expect(await a.fin("photo1", bytes.length, sha256)).toMatchObject({ success: true, object_key: fin.object_key });
      expect(await a.init("photo1", { session_id: h.seed.openA, name: "cam/photo1.jpg" })).toMatchObject({
        success: false,
        status: 409,
        code: "transfer_completed",
      });
      // Segments of a completed transfer are removed (right after fin, or by the clean-up job).
      await worker.cleanUpTransfersNow();
      expect(await h.prisma.transferSegment.count()).toBe(0);
      if (stagingDir) expect(await readdir(stagingDir)).toEqual([]);
    });

    it("re-init with the same metadata answers the held ranges; different metadata is a 409", async () => {
      const meta = { session_id: h.seed.openA, name: "reinit.bin", size: 300, user_data: { b: 1, a: [1, { z: 2, y: 3 }] } };
      expect(await a.init("reinit", meta)).toMatchObject({ success: true, received: [] });
      await a.segment("reinit", 100, Buffer.alloc(50, 1));
      await a.segment("reinit", 0, Buffer.alloc(20, 1));
      // Same metadata, keys in another order (jsonb reorders them): harmless, and says what is held.
      expect(
        await a.init("reinit", { user_data: { a: [1, { y: 3, z: 2 }], b: 1 }, size: 300, name: "reinit.bin", session_id: h.seed.openA }),
      ).toMatchObject({
        success: true,
        state: "active",
        received: [
          [0, 20],
          [100, 150],
        ],
      });
      for (const changed of [
        { ...meta, size: 301 },
        { ...meta, name: "other.bin" },
        { ...meta, user_data: { b: 2 } },
        { ...meta, content_type: "text/plain" },
      ]) {
        expect(await a.init("reinit", changed)).toMatchObject({
          success: false,
          status: 409,
          code: "transfer_conflict",
          command: "init",
          file_id: "reinit",
        });
      }
    });

    it("fin with gaps answers 409 incomplete with the missing ranges; sending them completes the file", async () => {
      const { bytes } = randomFile(10_000);
      await a.init("gappy", { session_id: h.seed.openA, name: "gappy.bin" });
      await a.segment("gappy", 0, bytes.subarray(0, 3000));
      await a.segment("gappy", 5000, bytes.subarray(5000, 9000));
      const fin = await a.fin("gappy", bytes.length);
      expect(fin).toMatchObject({
        success: false,
        status: 409,
        code: "incomplete",
        received: [
          [0, 3000],
          [5000, 9000],
        ],
        missing: [
          [3000, 5000],
          [9000, 10_000],
        ],
      });
      await a.segment("gappy", 3000, bytes.subarray(3000, 5000));
      await a.segment("gappy", 9000, bytes.subarray(9000));
      const done = await a.fin("gappy", bytes.length);
      expect(done).toMatchObject({ success: true, sha256: createHash("sha256").update(bytes).digest("hex") });
      expect((await stored(done.object_key as string))!.equals(bytes)).toBe(true);
    });

    it("a wrong checksum answers 400 checksum_mismatch and stores nothing", async () => {
      const { bytes } = randomFile(200_000);
      const wrong = "0".repeat(64);
      await a.init("badsum", { session_id: h.seed.openA, name: "badsum.bin", checksum: wrong });
      for (const [offset, chunk] of shuffledSegments(bytes, 50_000)) await a.segment("badsum", offset, chunk);
      const fin = await a.fin("badsum", bytes.length);
      expect(fin).toMatchObject({
        success: false,
        status: 400,
        code: "checksum_mismatch",
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
      expect(await h.store.head(`sessions/ROBOT-A/${h.seed.openA}/badsum.bin`)).toBeNull();
      expect(await h.prisma.file.findFirst({ where: { filename: "badsum.bin" } })).toBeNull();
      // The SHA-256 in the fin topic is checked as well.
      await a.init("badsum2", { session_id: h.seed.openA, name: "badsum2.bin" });
      await a.segment("badsum2", 0, bytes);
      expect(await a.fin("badsum2", bytes.length, "f".repeat(64))).toMatchObject({ success: false, code: "checksum_mismatch" });
      expect(await h.store.head(`sessions/ROBOT-A/${h.seed.openA}/badsum2.bin`)).toBeNull();
      // A size that contradicts init is refused before anything is assembled.
      await a.init("sized", { session_id: h.seed.openA, name: "sized.bin", size: 10 });
      expect(await a.fin("sized", 11)).toMatchObject({ success: false, status: 400, code: "size_mismatch" });
    });

    it("an empty file can be sent (init, then fin/0)", async () => {
      await a.init("empty", { session_id: h.seed.openA, name: "empty.txt" });
      const fin = await a.fin("empty", 0);
      expect(fin).toMatchObject({ success: true, sha256: createHash("sha256").digest("hex"), size: 0 });
      expect((await stored(fin.object_key as string))!.length).toBe(0);
    });

    it("enforces the configured limits, each with its own code", async () => {
      expect(await a.init("huge", { session_id: h.seed.openA, name: "huge.bin", size: LIMITS.maxFileBytes + 1 })).toMatchObject({
        status: 413,
        code: "transfer_too_large",
      });
      await a.init("limits", { session_id: h.seed.openA, name: "limits.bin" });
      await a.segment("limits", 0, Buffer.alloc(LIMITS.maxSegmentBytes + 1));
      expect(await a.next((m) => m.file_id === "limits" && m.command === "segment")).toMatchObject({
        success: false,
        status: 413,
        code: "segment_too_large",
        offset: 0,
      });
      await a.segment("limits", LIMITS.maxFileBytes - 10, Buffer.alloc(11));
      expect(await a.next((m) => m.file_id === "limits" && m.command === "segment")).toMatchObject({
        status: 413,
        code: "transfer_too_large",
        offset: LIMITS.maxFileBytes - 10,
      });
      await a.init("sized2", { session_id: h.seed.openA, name: "sized2.bin", size: 100 });
      await a.segment("sized2", 90, Buffer.alloc(20));
      expect(await a.next((m) => m.file_id === "sized2" && m.command === "segment")).toMatchObject({
        status: 400,
        code: "segment_out_of_range",
        size: 100,
      });
      await a.segment("sized2", 0, Buffer.alloc(0));
      expect(await a.next((m) => m.file_id === "sized2" && m.command === "segment")).toMatchObject({
        status: 400,
        code: "invalid_segment",
      });

      const active = await h.prisma.fileTransfer.count({ where: { state: "active", device: { serial: "ROBOT-A" } } });
      for (let i = 0; i < LIMITS.maxActivePerDevice - active; i++)
        expect(await a.init(`fill${i}`, { session_id: h.seed.openA, name: `fill${i}.bin` })).toMatchObject({ success: true });
      expect(await a.init("one-too-many", { session_id: h.seed.openA, name: "x.bin" })).toMatchObject({
        status: 429,
        code: "too_many_transfers",
      });
      // Aborting frees a place; a second abort answers the same.
      expect(await a.abort("fill0")).toMatchObject({ success: true, command: "abort" });
      expect(await a.abort("fill0")).toMatchObject({ success: true, command: "abort" });
      expect(await a.status("fill0")).toMatchObject({ status: 404, code: "transfer_not_found" });
      expect(await a.init("one-more", { session_id: h.seed.openA, name: "x.bin" })).toMatchObject({ success: true });
      for (const id of [
        "reinit",
        "limits",
        "sized",
        "sized2",
        "badsum",
        "badsum2",
        "one-more",
        ...Array.from({ length: 8 }, (_, i) => `fill${i}`),
      ])
        await a.abort(id);
    });

    it("answers a segment by what its transfer is now (completed, aborted, its device disabled) and records nothing of it", async () => {
      const chunk = Buffer.alloc(1000, 7);
      const held = async () =>
        h.prisma.transferSegment.count({ where: { transfer: { device: { serial: "ROBOT-A" }, fileRef: "midway" } } });

      // Completed: a late copy of a segment (the worker has seen the transfer active before).
      await a.init("late", { session_id: h.seed.openA, name: "late.bin", size: chunk.length });
      await a.segment("late", 0, chunk);
      expect(await a.fin("late", chunk.length)).toMatchObject({ success: true });
      await a.segment("late", 0, chunk);
      expect(await a.next((m) => m.file_id === "late" && m.command === "segment")).toMatchObject({
        status: 409,
        code: "transfer_completed",
      });

      // Aborted.
      await a.init("gone", { session_id: h.seed.openA, name: "gone.bin" });
      await a.segment("gone", 0, chunk);
      expect(await a.status("gone")).toMatchObject({ received: [[0, 1000]] });
      expect(await a.abort("gone")).toMatchObject({ success: true });
      await a.segment("gone", 1000, chunk);
      expect(await a.next((m) => m.file_id === "gone" && m.command === "segment")).toMatchObject({
        status: 404,
        code: "transfer_not_found",
      });

      // Device disabled half-way: refused from then on, and the ranges held stay what they were.
      await a.init("midway", { session_id: h.seed.openA, name: "midway.bin" });
      await a.segment("midway", 0, chunk);
      expect(await a.status("midway")).toMatchObject({ received: [[0, 1000]] });
      await h.prisma.device.update({ where: { serial: "ROBOT-A" }, data: { enabled: false } });
      try {
        await a.segment("midway", 1000, chunk);
        expect(await a.next((m) => m.file_id === "midway" && m.command === "segment")).toMatchObject({
          status: 403,
          code: "device_disabled",
        });
        expect(await held()).toBe(1);
      } finally {
        await h.prisma.device.update({ where: { serial: "ROBOT-A" }, data: { enabled: true } });
      }
      expect(await a.status("midway")).toMatchObject({ received: [[0, 1000]] });
      await a.abort("midway");
    });

    it("fin stores nothing into a session closed since init, nor over a file of the same name uploaded since", async () => {
      const first = randomFile(5000);
      const second = randomFile(7000);
      // Two transfers of one name: the second finishes first, and the first may not replace it.
      await a.init("twin1", { session_id: h.seed.openA, name: "twin.bin", size: first.bytes.length });
      await a.init("twin2", { session_id: h.seed.openA, name: "twin.bin", size: second.bytes.length });
      await a.segment("twin1", 0, first.bytes);
      await a.segment("twin2", 0, second.bytes);
      const done = await a.fin("twin2", second.bytes.length);
      expect(done).toMatchObject({ success: true });
      const refused = await a.fin("twin1", first.bytes.length);
      expect(refused).toMatchObject({ success: false, status: 409, code: "file_exists", command: "fin" });
      // As at init: the answer says what is stored under the name (the other transfer's file), so
      // a device can tell a lost answer to its own upload from a different file.
      const twin = await h.prisma.file.findUniqueOrThrow({
        where: { sessionId_filename: { sessionId: h.seed.openA, filename: "twin.bin" } },
      });
      expect(ZFileExistsResponseSchema.shape.existing.parse(refused.existing)).toEqual({
        size: second.bytes.length,
        sha256: second.sha256,
        uploaded_at: twin.uploadedAt!.toISOString(),
      });
      expect((await stored(done.object_key as string))!.equals(second.bytes)).toBe(true);
      await a.abort("twin1");

      const device = await h.prisma.device.findUniqueOrThrow({ where: { serial: "ROBOT-A" } });
      const session = await h.prisma.session.create({ data: { deviceId: device.id, projectId: device.projectId, name: "closing" } });
      await a.init("closing", { session_id: session.id, name: "late.bin", size: first.bytes.length });
      await a.segment("closing", 0, first.bytes);
      await h.prisma.session.update({ where: { id: session.id }, data: { state: "closed" } });
      expect(await a.fin("closing", first.bytes.length)).toMatchObject({ success: false, status: 409, code: "session_closed" });
      expect(await stored(`sessions/ROBOT-A/${session.id}/late.bin`)).toBeNull();
      expect(await h.prisma.file.count({ where: { sessionId: session.id } })).toBe(0);
      await a.abort("closing");
    });

    it("replaces a file already uploaded under its name only when the transfer was begun with overwrite", async () => {
      const name = "again/report.csv";
      const fileOf = () => h.prisma.file.findUniqueOrThrow({ where: { sessionId_filename: { sessionId: h.seed.openA, filename: name } } });
      const send = async (fileId: string, bytes: Buffer) => {
        for (let offset = 0; offset < bytes.length; offset += 4000) await a.segment(fileId, offset, bytes.subarray(offset, offset + 4000));
      };
      const first = randomFile(10_000);
      await a.init("v1", { session_id: h.seed.openA, name, size: first.bytes.length, user_data: { version: 1 } });
      await send("v1", first.bytes);
      const stored1 = await a.fin("v1", first.bytes.length);
      expect(stored1).toMatchObject({ success: true });
      const before = await fileOf();

      // Without overwrite, the name stays taken.
      expect(await a.init("v2", { session_id: h.seed.openA, name })).toMatchObject({ status: 409, code: "file_exists" });
      expect(await a.init("v2", { session_id: h.seed.openA, name, overwrite: false })).toMatchObject({ status: 409, code: "file_exists" });
      expect(await a.init("v2", { session_id: h.seed.openA, name, overwrite: "yes" })).toMatchObject({
        status: 400,
        code: "invalid_overwrite",
      });

      const second = randomFile(23_456);
      const meta = { session_id: h.seed.openA, name, size: second.bytes.length, checksum: second.sha256, user_data: { version: 2 } };
      expect(await a.init("v2", { ...meta, overwrite: true })).toMatchObject({ success: true, received: [] });
      // overwrite is part of the transfer's metadata: a re-init without it is another transfer.
      expect(await a.init("v2", meta)).toMatchObject({ status: 409, code: "transfer_conflict" });
      await send("v2", second.bytes.subarray(0, 20_000));
      expect(await a.fin("v2", second.bytes.length)).toMatchObject({ status: 409, code: "incomplete" });
      // Until the new version is stored, the old one is the file.
      expect(await fileOf()).toMatchObject({ state: "uploaded", size: BigInt(first.bytes.length), etag: before.etag });
      await a.segment("v2", 20_000, second.bytes.subarray(20_000));
      // Recorded as a form overwrite is: one file.uploaded event, for the new version.
      const endpoint = await h.prisma.webhookEndpoint.create({
        data: { projectId: h.seed.projectId, url: "http://127.0.0.1:9/hook", secret: "s".repeat(32), events: ["file.uploaded"] },
      });
      const stored2 = await a.fin("v2", second.bytes.length);
      const events = await h.prisma.webhookEvent.findMany({
        where: { type: "file.uploaded", data: { path: ["file_id"], equals: before.id } },
      });
      await h.prisma.webhookEndpoint.delete({ where: { id: endpoint.id } });
      expect(events.map((event) => event.data)).toMatchObject([{ size: second.bytes.length, etag: stored2.etag }]);
      expect(stored2).toMatchObject({ success: true, sha256: second.sha256, object_key: stored1.object_key });
      expect((await stored(stored2.object_key as string))!.equals(second.bytes)).toBe(true);
      const after = await fileOf();
      expect(after).toMatchObject({
        id: before.id,
        state: "uploaded",
        size: BigInt(second.bytes.length),
        sha256: second.sha256,
        etag: stored2.etag,
        arrivedVia: "mqtt_transfer",
        userData: { version: 2 },
      });
      expect(after.uploadedAt!.getTime()).toBeGreaterThanOrEqual(before.uploadedAt!.getTime());
      // The session's stored totals count the file once, at its new size.
      const session = await h.prisma.session.findUniqueOrThrow({ where: { id: h.seed.openA } });
      const files = await h.prisma.file.findMany({ where: { sessionId: h.seed.openA, state: "uploaded" } });
      expect(session.storedFiles).toBe(files.length);
      expect(session.storedBytes).toBe(files.reduce((sum, file) => sum + (file.size ?? 0n), 0n));
      // A repeated fin answers the same.
      expect(await a.fin("v2", second.bytes.length)).toMatchObject({ success: true, etag: stored2.etag });
    });

    it("an overwrite whose bytes fail their checksum keeps the file it was to replace, as it was", async () => {
      const name = "kept.bin";
      const first = randomFile(6000);
      await a.init("keep1", { session_id: h.seed.openA, name, size: first.bytes.length });
      await a.segment("keep1", 0, first.bytes);
      expect(await a.fin("keep1", first.bytes.length)).toMatchObject({ success: true });
      const where = { sessionId_filename: { sessionId: h.seed.openA, filename: name } };
      const before = await h.prisma.file.findUniqueOrThrow({ where });

      const second = randomFile(6000);
      await a.init("keep2", { session_id: h.seed.openA, name, overwrite: true, checksum: "b".repeat(64) });
      await a.segment("keep2", 0, second.bytes);
      const arrivals = () => h.prisma.fileArrival.aggregate({ _sum: { files: true } }).then((sum) => sum._sum.files);
      const arrived = await arrivals();
      const endpoint = await h.prisma.webhookEndpoint.create({
        data: { projectId: h.seed.projectId, url: "http://127.0.0.1:9/hook", secret: "s".repeat(32), events: ["file.uploaded"] },
      });
      expect(await a.fin("keep2", second.bytes.length)).toMatchObject({ status: 400, code: "checksum_mismatch" });
      // Put back, the file did not arrive again: no file.uploaded event, no arrival counted.
      const events = await h.prisma.webhookEvent.count({
        where: { type: "file.uploaded", data: { path: ["file_id"], equals: before.id } },
      });
      await h.prisma.webhookEndpoint.delete({ where: { id: endpoint.id } });
      expect(events).toBe(0);
      expect(await arrivals()).toBe(arrived);
      expect((await stored(`sessions/ROBOT-A/${h.seed.openA}/${name}`))!.equals(first.bytes)).toBe(true);
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({
        state: "uploaded",
        size: before.size,
        etag: before.etag,
        sha256: before.sha256,
        arrivedVia: before.arrivedVia,
        uploadedAt: before.uploadedAt,
      });
      await a.abort("keep2");
    });

    // A worker dying in the middle of a fin is simulated once, with PostgreSQL staging (the store's
    // put is the same in both modes).
    const inPostgresStaging = inFiles ? () => {} : it;
    inPostgresStaging("an overwrite interrupted after its object was stored leaves a file that describes what storage holds", async () => {
      const name = "crash/after-put.bin";
      const key = `sessions/ROBOT-A/${h.seed.openA}/${name}`;
      const where = { sessionId_filename: { sessionId: h.seed.openA, filename: name } };
      const first = randomFile(5000);
      await a.init("crash1", { session_id: h.seed.openA, name, size: first.bytes.length });
      await a.segment("crash1", 0, first.bytes);
      expect(await a.fin("crash1", first.bytes.length)).toMatchObject({ success: true });

      // A store whose put stores the object, then fails as a worker dying right after it would.
      const dying = new Proxy(h.store, {
        get(target, property) {
          if (property === "put")
            return async (...args: Parameters<Store["put"]>) => {
              await target.put(...args);
              throw new Error("the worker died after storing the object");
            };
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      const second = randomFile(8000);
      try {
        const crashing = await h.startWorker({ transfer: LIMITS }, { store: dying });
        await a.init("crash2", { session_id: h.seed.openA, name, size: second.bytes.length, overwrite: true });
        await a.segment("crash2", 0, second.bytes);
        expect(await a.fin("crash2", second.bytes.length)).toMatchObject({ success: false, status: 500 });
        await crashing.stop();
        h.workers.splice(h.workers.indexOf(crashing), 1);
      } finally {
        worker = await h.startWorker({ transfer: LIMITS });
      }
      expect((await stored(key))!.equals(second.bytes)).toBe(true);
      // The row no longer claims the old bytes: it is pending until the sweeper looks at storage.
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ state: "pending", sha256: null });
      await h.prisma.file.update({ where, data: { nextCheckAt: new Date() } });
      await worker.sweepNow();
      const info = (await h.store.head(key))!;
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({
        state: "uploaded",
        size: BigInt(second.bytes.length),
        etag: info.etag,
        arrivedVia: "mqtt_transfer",
      });
      // The device sending fin again completes the transfer as if nothing had happened.
      expect(await a.fin("crash2", second.bytes.length)).toMatchObject({ success: true, sha256: second.sha256 });
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({
        state: "uploaded",
        size: BigInt(second.bytes.length),
        sha256: second.sha256,
      });
    });

    inPostgresStaging("two overwrites of one name finishing at once leave the file and its object as the same version", async () => {
      const name = "race.bin";
      const key = `sessions/ROBOT-A/${h.seed.openA}/${name}`;
      const where = { sessionId_filename: { sessionId: h.seed.openA, filename: name } };
      const start = randomFile(3000);
      await a.init("race0", { session_id: h.seed.openA, name, size: start.bytes.length });
      await a.segment("race0", 0, start.bytes);
      expect(await a.fin("race0", start.bytes.length)).toMatchObject({ success: true });

      // The first fin to store its object waits, before recording it, until the other fin is under
      // way: waiting for its turn (an advisory lock not granted), or done (the file recorded again).
      const lockWaiters = async () =>
        Number(
          (
            await h.prisma.$queryRaw<{ n: bigint }[]>`
              SELECT count(*) AS n FROM pg_locks
              WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
          )[0]!.n,
        );
      let held = false;
      const racing = new Proxy(h.store, {
        get(target, property) {
          if (property === "put")
            return async (...args: Parameters<Store["put"]>) => {
              const info = await target.put(...args);
              if (!held) {
                held = true;
                for (let tries = 0; tries < 500; tries++) {
                  const file = await h.prisma.file.findUniqueOrThrow({ where });
                  if ((await lockWaiters()) > 0 || (file.state === "uploaded" && file.sha256 !== null)) break;
                  await sleep(20);
                }
              }
              return info;
            };
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      const one = randomFile(4000);
      const two = randomFile(5000);
      try {
        const both = await h.startWorker({ transfer: LIMITS }, { store: racing });
        await a.init("raceA", { session_id: h.seed.openA, name, size: one.bytes.length, overwrite: true });
        await a.init("raceB", { session_id: h.seed.openA, name, size: two.bytes.length, overwrite: true });
        await a.segment("raceA", 0, one.bytes);
        await a.segment("raceB", 0, two.bytes);
        const answers = await Promise.all([a.fin("raceA", one.bytes.length), a.fin("raceB", two.bytes.length)]);
        expect(answers).toMatchObject([{ success: true }, { success: true }]);
        await both.stop();
        h.workers.splice(h.workers.indexOf(both), 1);
      } finally {
        worker = await h.startWorker({ transfer: LIMITS });
      }
      const bytes = (await stored(key))!;
      const file = await h.prisma.file.findUniqueOrThrow({ where });
      expect(file).toMatchObject({
        state: "uploaded",
        size: BigInt(bytes.length),
        sha256: createHash("sha256").update(bytes).digest("hex"),
        etag: (await h.store.head(key))!.etag,
      });
    });

    inPostgresStaging("an overwrite interrupted before its object was stored leaves the file it was to replace", async () => {
      const name = "crash/before-put.bin";
      const where = { sessionId_filename: { sessionId: h.seed.openA, filename: name } };
      const first = randomFile(5000);
      await a.init("early1", { session_id: h.seed.openA, name, size: first.bytes.length });
      await a.segment("early1", 0, first.bytes);
      expect(await a.fin("early1", first.bytes.length)).toMatchObject({ success: true });
      const before = await h.prisma.file.findUniqueOrThrow({ where });

      // What a fin that died right after setting the file pending leaves behind.
      const pool = createPgPool({ databaseUrl: h.db.url, max: 1 });
      try {
        expect(await reopenForOverwrite(pool, { sessionId: h.seed.openA, name, pendingSeconds: 60 })).not.toBeNull();
      } finally {
        await pool.end();
      }
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ state: "pending" });
      // The sweeper takes an object from up to 5 s before the row's issued_at as new: the old
      // version is made older than that (as if replaced a while after it was stored).
      await h.prisma.file.update({ where, data: { issuedAt: new Date(Date.now() + 10_000) } });
      await h.prisma.file.update({ where, data: { nextCheckAt: new Date() } });
      await worker.sweepNow();
      // Before the row expires the file waits: the fin may still be storing the new bytes.
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({ state: "pending" });
      // Once it expired, storage still holding the recorded bytes makes the file what it was.
      await h.prisma.file.update({ where, data: { nextCheckAt: new Date(), expiresAt: new Date(Date.now() - 3_600_000) } });
      await worker.sweepNow();
      expect(await h.prisma.file.findUniqueOrThrow({ where })).toMatchObject({
        state: "uploaded",
        size: before.size,
        etag: before.etag,
        uploadedAt: before.uploadedAt,
      });
    });

    it("refuses bad topics, bad payloads, unknown transfers, and sessions the device may not use", async () => {
      await a.segment("nobody", 0, Buffer.from("x"));
      expect(await a.next((m) => m.file_id === "nobody")).toMatchObject({ status: 404, code: "transfer_not_found", command: "segment" });
      await a.raw("ok-id/12x", "x");
      expect(await a.next((m) => m.file_id === "ok-id")).toMatchObject({ status: 400, code: "invalid_offset", command: "segment" });
      await a.raw("ok-id/fin/abc");
      expect(await a.next((m) => m.file_id === "ok-id")).toMatchObject({ status: 400, code: "invalid_file_size", command: "fin" });
      await a.raw("ok-id/fin/3/nothex");
      expect(await a.next((m) => m.file_id === "ok-id")).toMatchObject({ status: 400, code: "invalid_checksum", command: "fin" });
      await a.raw("bad.id/init", "{}");
      expect(await a.next((m) => m.command === "init" && m.code === "invalid_file_id")).toMatchObject({ status: 400 });

      expect(await a.init("p1", { session_id: "one", name: "a" })).toMatchObject({ status: 400, code: "invalid_session_id" });
      expect(await a.init("p1", { session_id: 1, name: "../a" })).toMatchObject({ status: 400, code: "invalid_filename" });
      expect(await a.init("p1", { session_id: 1, name: "a", checksum: "xyz" })).toMatchObject({ status: 400, code: "invalid_checksum" });
      expect(await a.init("p1", { session_id: 1, name: "a", size: -1 })).toMatchObject({ status: 400, code: "invalid_file_size" });
      await a.raw("p1/init", "not json");
      expect(await a.next((m) => m.file_id === "p1")).toMatchObject({ status: 400, code: "invalid_json" });

      expect(await a.init("s1", { session_id: h.seed.openB, name: "a" })).toMatchObject({ status: 403, code: "session_not_owned" });
      expect(await a.init("s1", { session_id: h.seed.closedA, name: "a" })).toMatchObject({ status: 409, code: "session_closed" });
      expect(await a.init("s1", { session_id: 999_999, name: "a" })).toMatchObject({ status: 404, code: "session_not_found" });
      const taken = await a.init("s1", { session_id: h.seed.openA, name: "cam/photo1.jpg" });
      expect(taken).toMatchObject({ status: 409, code: "file_exists" });
      // It says what is stored under the name (what the transfer that stored it computed).
      const stored = await h.prisma.file.findUniqueOrThrow({
        where: { sessionId_filename: { sessionId: h.seed.openA, filename: "cam/photo1.jpg" } },
      });
      expect(ZFileExistsResponseSchema.shape.existing.parse(taken.existing)).toEqual({
        size: Number(stored.size),
        sha256: stored.sha256,
        uploaded_at: stored.uploadedAt!.toISOString(),
      });
      expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);

      const off = await transferDevice(h.broker, "ROBOT-OFF");
      expect(await off.init("x", { session_id: h.seed.openDisabled, name: "a" })).toMatchObject({ status: 403, code: "device_disabled" });
      await off.close();
      const ghost = await transferDevice(h.broker, "GHOST");
      expect(await ghost.init("x", { session_id: 1, name: "a" })).toMatchObject({ status: 403, code: "device_unknown" });
      await ghost.close();
    });

    it("another device can use the same file_id: ids are per device", async () => {
      const b = await transferDevice(h.broker, "ROBOT-B");
      expect(await b.init("photo1", { session_id: h.seed.openB, name: "photo1.jpg" })).toMatchObject({ success: true, received: [] });
      await b.segment("photo1", 0, Buffer.from("hello"));
      expect(await b.fin("photo1", 5)).toMatchObject({ success: true, object_key: `sessions/ROBOT-B/${h.seed.openB}/photo1.jpg` });
      await b.close();
    });

    it("removes incomplete transfers idle for longer than TRANSFER_TTL, with their segments", async () => {
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      worker = await h.startWorker({ transfer: { ...LIMITS, ttlSeconds: 1 } });
      const short = worker;
      await a.init("stale", { session_id: h.seed.openA, name: "stale.bin" });
      await a.segment("stale", 0, Buffer.alloc(1000, 3));
      expect(await a.status("stale")).toMatchObject({ received: [[0, 1000]] });
      const before = await h.prisma.transferSegment.count();
      expect(before).toBeGreaterThan(0);
      expect((await short.cleanUpTransfersNow()).expired).toBe(0);
      // Idle for longer than the 1 s TTL: its last activity moved back rather than waited out
      // (the TTL is measured against PostgreSQL's clock, which a test cannot move).
      await h.prisma.fileTransfer.updateMany({ where: { fileRef: "stale" }, data: { lastActivityAt: new Date(Date.now() - 60_000) } });
      expect((await short.cleanUpTransfersNow()).expired).toBe(1);
      expect(await h.prisma.fileTransfer.findFirst({ where: { fileRef: "stale" } })).toBeNull();
      expect(await h.prisma.transferSegment.count()).toBe(0);
      expect(await a.status("stale")).toMatchObject({ status: 404, code: "transfer_not_found" });
      if (stagingDir) {
        // Its staging file goes once it is a minute old (younger ones may belong to a transfer being created).
        const [file] = await readdir(stagingDir);
        expect(file).toMatch(/\.part$/);
        const { utimes } = await import("node:fs/promises");
        const old = new Date(Date.now() - 120_000);
        await utimes(path.join(stagingDir, file!), old, old);
        expect((await short.cleanUpTransfersNow()).stagingFilesRemoved).toBe(1);
        expect(await readdir(stagingDir)).toEqual([]);
      }
    });

    // Only file staging assembles while segments arrive (PostgreSQL staging always assembles at
    // fin), so these two exist in that mode only rather than being reported as skipped.
    const inFileStaging = inFiles ? it : () => {};
    inFileStaging(
      "with file staging, hashes while segments arrive and the staging file becomes the object, " +
        "so fin only finishes the hash (and falls back when it cannot)",
      async () => {
        const eagerCount = async () =>
          Number(
            /fleetdrop_transfers_finished_total\{outcome="eager_stored"\} (\d+)/.exec(await worker.metrics.registry.metrics())?.[1] ?? 0,
          );
        const before = await eagerCount();
        const { bytes, sha256 } = randomFile(3 * 1024 * 1024 + 17);
        await a.init("eager", { session_id: h.seed.openA, name: "eager.bin", size: bytes.length, checksum: sha256 });
        for (let offset = 0; offset < bytes.length; offset += 200_000)
          await a.segment("eager", offset, bytes.subarray(offset, offset + 200_000));
        const transfer = await h.prisma.fileTransfer.findFirstOrThrow({ where: { fileRef: "eager" } });
        const stagedInode = (await stat(path.join(stagingDir!, `${transfer.id}.part`))).ino;
        const fin = await a.fin("eager", bytes.length, sha256);
        // Hashed once, for the checksum: the adopted file's ETag is its SHA-256.
        expect(fin).toMatchObject({ success: true, sha256, etag: `"${sha256}"` });
        expect(await eagerCount()).toBe(before + 1);
        expect((await stored(fin.object_key as string))!.equals(bytes)).toBe(true);
        // The staging file became the object (renamed, not copied): the bytes went to disk once.
        expect((await stat(path.join(h.store.rootDir, h.store.bucket, "objects", fin.object_key as string))).ino).toBe(stagedInode);
        // A gap the device fills later: the eager stream waits for it, then goes on.
        const second = randomFile(500_000);
        await a.init("eager2", { session_id: h.seed.openA, name: "eager2.bin" });
        await a.segment("eager2", 0, second.bytes.subarray(0, 100_000));
        await a.segment("eager2", 200_000, second.bytes.subarray(200_000, 400_000));
        await a.segment("eager2", 400_000, second.bytes.subarray(400_000));
        expect(await a.fin("eager2", second.bytes.length)).toMatchObject({ code: "incomplete", missing: [[100_000, 200_000]] });
        await a.segment("eager2", 100_000, second.bytes.subarray(100_000, 200_000));
        expect(await a.fin("eager2", second.bytes.length, second.sha256)).toMatchObject({ success: true, sha256: second.sha256 });
        expect((await stored(`sessions/ROBOT-A/${h.seed.openA}/eager2.bin`))!.equals(second.bytes)).toBe(true);
        // A wrong checksum found by the eager hash stores nothing either.
        const third = randomFile(300_000);
        await a.init("eager3", { session_id: h.seed.openA, name: "eager3.bin", checksum: "a".repeat(64) });
        await a.segment("eager3", 0, third.bytes.subarray(0, 150_000));
        await a.segment("eager3", 150_000, third.bytes.subarray(150_000));
        expect(await a.fin("eager3", third.bytes.length)).toMatchObject({ status: 400, code: "checksum_mismatch", sha256: third.sha256 });
        expect(await h.store.head(`sessions/ROBOT-A/${h.seed.openA}/eager3.bin`)).toBeNull();
        await a.abort("eager3");
      },
    );

    inFileStaging("with a staging folder on another filesystem than the store, copies the file instead of moving it", async () => {
      const elsewhere = await mkdtemp("/dev/shm/fd-staging-");
      try {
        await worker.stop();
        h.workers.splice(h.workers.indexOf(worker), 1);
        const other = await h.startWorker({ transfer: { ...LIMITS, stagingDir: elsewhere } });
        try {
          const { bytes, sha256 } = randomFile(700_000);
          await a.init("across", { session_id: h.seed.openA, name: "across.bin", size: bytes.length, checksum: sha256 });
          for (let offset = 0; offset < bytes.length; offset += 100_000)
            await a.segment("across", offset, bytes.subarray(offset, offset + 100_000));
          const fin = await a.fin("across", bytes.length, sha256);
          expect(fin).toMatchObject({ success: true, sha256, etag: `"${createHash("md5").update(bytes).digest("hex")}"` });
          expect((await stored(fin.object_key as string))!.equals(bytes)).toBe(true);
        } finally {
          await other.stop();
          h.workers.splice(h.workers.indexOf(other), 1);
          worker = await h.startWorker({ transfer: LIMITS });
        }
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    });

    it("finishes many transfers at once on a small database pool (assemblies are bounded, no pool deadlock)", async () => {
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      worker = await h.startWorker({ transfer: LIMITS, dbPoolSize: 3 });
      const files = Array.from({ length: 6 }, () => randomFile(200_000));
      for (const [i, f] of files.entries()) {
        await a.init(`many${i}`, { session_id: h.seed.openA, name: `many/${i}.bin`, checksum: f.sha256 });
        await a.segment(`many${i}`, 0, f.bytes);
      }
      const fins = await Promise.all(files.map((f, i) => a.fin(`many${i}`, f.bytes.length)));
      expect(fins.map((fin) => [fin.success, fin.sha256])).toEqual(files.map((f) => [true, f.sha256]));
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      worker = await h.startWorker({ transfer: LIMITS });
    });

    it("loses nothing when the worker restarts in the middle of a transfer", async () => {
      const { bytes, sha256 } = randomFile(2 * 1024 * 1024);
      await a.init("restart", { session_id: h.seed.openA, name: "restart.bin", size: bytes.length, checksum: sha256 });
      const segments = shuffledSegments(bytes, 32 * 1024);
      const half = segments.length / 2;
      for (const [offset, chunk] of segments.slice(0, half)) await a.segment("restart", offset, chunk);
      // Stop the worker while segments are still arriving; the rest wait at the broker.
      const sending = (async () => {
        for (const [offset, chunk] of segments.slice(half)) await a.segment("restart", offset, chunk);
      })();
      await sleep(5);
      await worker.stop();
      h.workers.splice(h.workers.indexOf(worker), 1);
      await sending;
      worker = await h.startWorker({ transfer: LIMITS });
      const fin = await a.fin("restart", bytes.length, sha256);
      expect(fin).toMatchObject({ success: true, sha256 });
      expect((await stored(fin.object_key as string))!.equals(bytes)).toBe(true);
    });
  });
});
