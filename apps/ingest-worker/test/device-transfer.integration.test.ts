/**
 * The device SDK's upload over MQTT (`uploadOverMqtt`) and the command line's `upload --over-mqtt` and
 * `resume`, against a real worker and Mosquitto: a dropped connection in the middle, a device
 * that restarts and resumes from the platform's ranges, and the CLI's plain progress lines.
 */
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { stableFileId, writeTransferState } from "@fleetdrop/device/mqtt-transfer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type THarness } from "./harness";
import { storedBytes } from "./support/stored";
import { startTcpProxy } from "@fleetdrop/test-broker/tcp-proxy";
import { randomFile } from "./transfer-device";
import { runDeviceCli } from "./support/device-cli";

let h: THarness;
let tmp: string;

beforeAll(async () => {
  h = await createHarness("devtransfer");
  await h.startWorker({ transfer: { maxSegmentBytes: 256 * 1024 } });
  tmp = await mkdtemp(path.join(tmpdir(), "fd-devtransfer-"));
});

afterAll(async () => {
  await h?.close();
});

// Only objects the test saw stored are read: a missing one fails the test here.
const stored = async (key: string) => (await storedBytes(h.store, key))!;

const runCli = (args: string[], cwd: string) => runDeviceCli(args, { cwd });

describe("device SDK: uploadOverMqtt", () => {
  it("sends a file with user_data; it appears like any other upload", async () => {
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const { bytes, sha256 } = randomFile(700_000);
      const file = path.join(tmp, "scan.bin");
      await writeFile(file, bytes);
      const seen: number[] = [];
      const result = await device.uploadOverMqtt({
        sessionId: h.seed.openA,
        path: file,
        filename: "scans/scan.bin",
        userData: { robot: "A", pass: 3 },
        segmentSize: 100_000,
        onProgress: (p) => seen.push(p.sent),
      });
      expect(result).toMatchObject({
        objectKey: `sessions/ROBOT-A/${h.seed.openA}/scans/scan.bin`,
        size: bytes.length,
        sha256,
        sent: bytes.length,
        attempts: 1,
      });
      expect(seen.at(-1)).toBe(bytes.length);
      expect((await stored(result.objectKey)).equals(bytes)).toBe(true);
      expect(await h.prisma.file.findFirst({ where: { filename: "scans/scan.bin" } })).toMatchObject({
        state: "uploaded",
        userData: { robot: "A", pass: 3 },
      });
      // Refusals carry the protocol's codes.
      await expect(device.uploadOverMqtt({ sessionId: h.seed.closedA, path: file })).rejects.toMatchObject({
        code: "session_closed",
        status: 409,
      });
      await expect(
        device.uploadOverMqtt({ sessionId: h.seed.openA, path: file, filename: "big-seg.bin", segmentSize: 300 * 1024 }),
      ).rejects.toMatchObject({ code: "segment_too_large", status: 413 });
    } finally {
      await device.close();
    }
  });

  it("works for MQTT 3.1.1 devices too (answers on the fixed response topic, matched by request_id)", async () => {
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A", protocolVersion: 4 });
    try {
      const { bytes, sha256 } = randomFile(150_000);
      const file = path.join(tmp, "v311.bin");
      await writeFile(file, bytes);
      const result = await device.uploadOverMqtt({ sessionId: h.seed.openA, path: file, segmentSize: 40_000 });
      expect(result.sha256).toBe(sha256);
      expect((await stored(result.objectKey)).equals(bytes)).toBe(true);
      expect(await device.sendChunk("nostream", "x")).toBeNull(); // not confirmed on 3.1.1: broker ack only
      await expect(device.sendChunk("nostream", "x", { confirm: true })).rejects.toMatchObject({ code: "mqtt5_required" });
    } finally {
      await device.close();
    }
  });

  it("survives a dropped connection in the middle and finishes the file", async () => {
    const url = new URL(h.broker.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    const device = await FleetdropDevice.connect({ url: `mqtt://127.0.0.1:${proxy.port}`, deviceId: "ROBOT-A", timeoutMs: 3000 });
    try {
      const { bytes, sha256 } = randomFile(4 * 1024 * 1024);
      const file = path.join(tmp, "dropped.bin");
      await writeFile(file, bytes);
      let cut = false;
      const result = await device.uploadOverMqtt({
        sessionId: h.seed.openA,
        path: file,
        segmentSize: 64 * 1024,
        window: 8,
        onProgress: ({ sent, total }) => {
          if (!cut && sent > total / 3) {
            cut = true;
            // Drop every open connection, and let the device reconnect half a second later.
            void proxy.down().then(() => setTimeout(() => void proxy.up(), 500));
          }
        },
      });
      expect(cut).toBe(true);
      expect(result.sha256).toBe(sha256);
      expect((await stored(result.objectKey)).equals(bytes)).toBe(true);
    } finally {
      await device.close();
      await proxy.close();
    }
  });

  it("resumes after the device restarts: only the missing bytes are sent again", async () => {
    const { bytes, sha256 } = randomFile(3 * 1024 * 1024);
    const file = path.join(tmp, "restart.bin");
    await writeFile(file, bytes);
    const stateFile = path.join(tmp, "state", "restart.json");

    // First run: stop the device abruptly after about half the file.
    const first = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A", timeoutMs: 2000 });
    const interrupted = first
      .uploadOverMqtt({
        sessionId: h.seed.openA,
        path: file,
        stateFile,
        attempts: 1,
        window: 4,
        onProgress: ({ sent, total }) => {
          if (sent > total / 2) first.client.end(true);
        },
      })
      .catch((error: unknown) => error);
    await interrupted;
    expect(existsSync(stateFile)).toBe(true);
    const state = JSON.parse(await readFile(stateFile, "utf8"));
    expect(state).toMatchObject({ deviceId: "ROBOT-A", sessionId: h.seed.openA, size: bytes.length, sha256 });

    // Second run (a new process would do the same): the platform's ranges say what is left.
    const second = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      let held = 0;
      const status = await second.transferStatus(state.fileId);
      expect(status.state).toBe("active");
      const result = await second.uploadOverMqtt({
        sessionId: h.seed.openA,
        path: file,
        stateFile,
        onResume: (info) => (held = info.held),
      });
      expect(result.fileId).toBe(state.fileId);
      expect(held).toBeGreaterThan(bytes.length / 3);
      expect(result.sent).toBeLessThanOrEqual(bytes.length - held);
      expect((await stored(result.objectKey)).equals(bytes)).toBe(true);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      await second.close();
    }
  });
});

describe("several workers", () => {
  it("a transfer spread over two workers of a shared subscription completes: staging is visible to both", async () => {
    const mqttOf = (clientId: string) => ({
      url: h.broker.url,
      clientId,
      protocolVersion: 5 as const,
      sessionExpirySeconds: 0,
      receiveMaximum: 100,
      sharedGroup: "ingest",
    });
    for (const worker of h.workers.splice(0)) await worker.stop();
    const one = await h.startWorker({ mqtt: mqttOf("ingest-one"), http: null });
    const two = await h.startWorker({ mqtt: mqttOf("ingest-two"), http: null });
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const { bytes, sha256 } = randomFile(2 * 1024 * 1024);
      const file = path.join(tmp, "shared.bin");
      await writeFile(file, bytes);
      const result = await device.uploadOverMqtt({ sessionId: h.seed.openA, path: file, segmentSize: 32 * 1024 });
      expect(result.sha256).toBe(sha256);
      expect((await stored(result.objectKey)).equals(bytes)).toBe(true);
      const staged = async (worker: typeof one) =>
        Number(/^fleetdrop_transfer_segment_bytes_total (\d+)/m.exec(await worker.metrics.registry.metrics())?.[1] ?? 0);
      const [a, b] = [await staged(one), await staged(two)];
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThan(0);
      expect(a + b).toBeGreaterThanOrEqual(bytes.length);
    } finally {
      await device.close();
      for (const worker of h.workers.splice(0)) await worker.stop();
      await h.startWorker({ transfer: { maxSegmentBytes: 256 * 1024 } });
    }
  });
});

/**
 * Sends about half of `file` over MQTT into openA under its base name, with the file_id the command
 * line derives and the state file it keeps, then drops the connection as a device that lost power
 * would. Returns the file_id.
 */
async function leaveHalfSent(file: string, stateDir: string): Promise<string> {
  const { size, mtimeMs } = await stat(file);
  const fileId = stableFileId({ deviceId: "ROBOT-A", sessionId: h.seed.openA, filename: path.basename(file), size, mtimeMs });
  const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A", timeoutMs: 2000 });
  await device
    .uploadOverMqtt({
      sessionId: h.seed.openA,
      path: file,
      fileId,
      stateFile: path.join(stateDir, `${fileId}.json`),
      attempts: 1,
      window: 2,
      onProgress: ({ sent, total }) => {
        if (sent > total / 2) device.client.end(true);
      },
    })
    .catch(() => {});
  return fileId;
}

describe("command line: upload --over-mqtt, resume", () => {
  it("uploads with plain progress lines when not on a terminal, and says what it stored", async () => {
    const { bytes } = randomFile(300_000);
    const file = path.join(tmp, "cli.bin");
    await writeFile(file, bytes);
    const result = await runCli(
      [
        "upload",
        "--over-mqtt",
        "--url",
        h.broker.url,
        "--device",
        "ROBOT-A",
        "--session",
        String(h.seed.openA),
        "--segment-size",
        "32k",
        "--user-data",
        '{"via":"cli"}',
        "cli.bin",
      ],
      tmp,
    );
    expect(result.stderr).toMatch(/cli\.bin: 100% 293 KiB \/ 293 KiB .*\/s {2}ETA 0:00/);
    expect(result.stderr).not.toContain("\r");
    expect(result.stdout).toMatch(
      new RegExp(`uploaded cli\\.bin over MQTT \\(293 KiB, sha256 [0-9a-f]{12}…\\) → sessions/ROBOT-A/${h.seed.openA}/cli\\.bin`),
    );
    expect(result.code).toBe(0);
    expect(await h.prisma.file.findFirst({ where: { filename: "cli.bin" } })).toMatchObject({
      state: "uploaded",
      userData: { via: "cli" },
    });
  });

  it("resume finishes an interrupted transfer from its state file; usage errors exit 2", async () => {
    const { bytes } = randomFile(500_000);
    const file = path.join(tmp, "later.bin");
    await writeFile(file, bytes);
    const stateDir = path.join(tmp, ".fleetdrop", "transfers");
    const fileId = await leaveHalfSent(file, stateDir);
    expect(await readdir(stateDir)).toEqual([`${fileId}.json`]);

    const resumed = await runCli(["resume", "--url", h.broker.url, "--device", "ROBOT-A"], tmp);
    expect(resumed.stderr).toMatch(/resuming later\.bin: the platform already holds/);
    expect(resumed.stdout).toMatch(/uploaded later\.bin over MQTT/);
    expect(resumed.code).toBe(0);
    expect(await readdir(stateDir)).toEqual([]);
    expect((await stored(`sessions/ROBOT-A/${h.seed.openA}/later.bin`)).equals(bytes)).toBe(true);

    const usage = await runCli(["upload", "--over-mqtt", "--segment-size", "lots", "later.bin"], tmp);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"lots" is not a size');
    const refused = await runCli(
      ["upload", "--over-mqtt", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.closedA), "later.bin"],
      tmp,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/failed later\.bin: Session is closed \[session_closed\]/);
  });

  it("a permanent refusal (file_exists) says so without suggesting resume and leaves no state; resume drops such state files", async () => {
    const { bytes } = randomFile(100_000);
    await writeFile(path.join(tmp, "twice.bin"), bytes);
    const stateDir = path.join(tmp, ".fleetdrop", "transfers");
    const args = ["upload", "--over-mqtt", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA), "twice.bin"];
    expect((await runCli(args, tmp)).code).toBe(0);
    // Same name, other content: a new file_id, and the platform already holds twice.bin.
    await writeFile(path.join(tmp, "twice.bin"), randomFile(100_001).bytes);
    const again = await runCli(args, tmp);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/failed twice\.bin: .*\[file_exists\]/);
    expect(again.stderr).not.toMatch(/resume|run the same command/);
    expect(await readdir(stateDir).catch(() => [])).toEqual([]);

    // A state file of a transfer that can never complete (as an interrupted run may leave).
    const info = await stat(path.join(tmp, "twice.bin"));
    const fileId = stableFileId({
      deviceId: "ROBOT-A",
      sessionId: h.seed.openA,
      filename: "twice.bin",
      size: info.size,
      mtimeMs: info.mtimeMs,
    });
    await writeTransferState(path.join(stateDir, `${fileId}.json`), {
      version: 1,
      fileId,
      deviceId: "ROBOT-A",
      sessionId: h.seed.openA,
      path: path.join(tmp, "twice.bin"),
      filename: "twice.bin",
      contentType: "application/octet-stream",
      size: info.size,
      mtimeMs: info.mtimeMs,
      sha256: createHash("sha256")
        .update(await readFile(path.join(tmp, "twice.bin")))
        .digest("hex"),
      segmentSize: 65536,
      held: 0,
      updatedAt: new Date().toISOString(),
    });
    const resumed = await runCli(["resume", "--url", h.broker.url, "--device", "ROBOT-A"], tmp);
    expect(resumed.stderr).toMatch(/dropping twice\.bin: .*\[file_exists\].*can never complete/);
    expect(resumed.code).toBe(0);
    expect(await readdir(stateDir)).toEqual([]);
    const nothing = await runCli(["resume", "--url", h.broker.url, "--device", "ROBOT-A"], tmp);
    expect(nothing.code).toBe(0);
  });

  it("a file the platform already holds (same size and SHA-256) is done: init answering file_exists exits 0 and says so", async () => {
    const cwd = await mkdtemp(path.join(tmp, "again-"));
    const file = path.join(cwd, "again.bin");
    const { bytes, sha256 } = randomFile(120_000);
    await writeFile(file, bytes);
    const args = ["upload", "--over-mqtt", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA), "again.bin"];
    const first = await runCli(args, cwd);
    expect(first.code, first.stderr).toBe(0);
    const row = await h.prisma.file.findFirstOrThrow({ where: { sessionId: h.seed.openA, filename: "again.bin" } });
    // A later modification time: another file_id, so the platform's init finds the name taken.
    await utimes(file, new Date(), new Date(Date.now() + 60_000));
    const second = await runCli(args, cwd);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain(
      `already stored again.bin: the platform holds it, same size and SHA-256 (117 KiB, sha256 ${sha256.slice(0, 12)}…), ` +
        `uploaded ${row.uploadedAt!.toISOString()}\n`,
    );
    expect(second.stderr).not.toMatch(/failed|file_exists/);
    expect(await readdir(path.join(cwd, ".fleetdrop", "transfers"))).toEqual([]);
    const json = await runCli([...args.slice(0, -1), "--json", "again.bin"], cwd);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({
      ok: true,
      already: true,
      size: bytes.length,
      sha256,
      uploaded_at: row.uploadedAt!.toISOString(),
    });

    // Another file of that name (same size, other bytes) is still refused: a failure, no state left.
    await writeFile(file, randomFile(120_000).bytes);
    const other = await runCli(args, cwd);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/failed again\.bin: .*\[file_exists\]/);
    expect(other.stderr).not.toMatch(/resume|run the same command/);
    expect(other.stdout).not.toMatch(/already stored/);
    expect(await readdir(path.join(cwd, ".fleetdrop", "transfers"))).toEqual([]);
    expect((await stored(`sessions/ROBOT-A/${h.seed.openA}/again.bin`)).equals(bytes)).toBe(true);
  });

  it("a transfer whose fin finds the same file stored meanwhile (by a form) exits 0, and its state file is removed", async () => {
    const cwd = await mkdtemp(path.join(tmp, "fin-"));
    const file = path.join(cwd, "meanwhile.bin");
    const { bytes, sha256 } = randomFile(600_000);
    await writeFile(file, bytes);
    const stateDir = path.join(cwd, ".fleetdrop", "transfers");
    // The transfer is active, its state file stays.
    const fileId = await leaveHalfSent(file, stateDir);
    expect(await readdir(stateDir)).toEqual([`${fileId}.json`]);
    // The same bytes reach the name by another way (a form upload of a copy).
    const copy = path.join(cwd, "copy.bin");
    await writeFile(copy, bytes);
    const connection = ["--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA)];
    const form = await runCli(["upload", ...connection, "--name", "meanwhile.bin", "copy.bin"], cwd);
    expect(form.code, form.stderr).toBe(0);

    // The transfer's init resumes it; its fin is answered file_exists with this very file.
    const resumed = await runCli(["upload", "--over-mqtt", ...connection, "meanwhile.bin"], cwd);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming meanwhile\.bin: the platform already holds/);
    expect(resumed.stdout).toMatch(new RegExp(`already stored meanwhile\\.bin: .*sha256 ${sha256.slice(0, 12)}…\\), uploaded \\d{4}-`));
    expect(await readdir(stateDir)).toEqual([]);
    expect((await stored(`sessions/ROBOT-A/${h.seed.openA}/meanwhile.bin`)).equals(bytes)).toBe(true);
  });

  it("sends a new version of a stored file with overwrite (SDK and --overwrite), and not without", async () => {
    const file = path.join(tmp, "version.csv");
    const key = `sessions/ROBOT-A/${h.seed.openA}/version.csv`;
    const row = () => h.prisma.file.findFirstOrThrow({ where: { sessionId: h.seed.openA, filename: "version.csv" } });
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const v1 = randomFile(50_000);
      await writeFile(file, v1.bytes);
      await device.uploadOverMqtt({ sessionId: h.seed.openA, path: file });
      const v2 = randomFile(80_000);
      await writeFile(file, v2.bytes);
      await expect(device.uploadOverMqtt({ sessionId: h.seed.openA, path: file })).rejects.toMatchObject({ code: "file_exists" });
      const result = await device.uploadOverMqtt({ sessionId: h.seed.openA, path: file, overwrite: true });
      expect(result).toMatchObject({ objectKey: key, size: v2.bytes.length, sha256: v2.sha256 });
      expect((await stored(key)).equals(v2.bytes)).toBe(true);
      expect(await row()).toMatchObject({ state: "uploaded", size: BigInt(v2.bytes.length), sha256: v2.sha256 });
    } finally {
      await device.close();
    }
    const v3 = randomFile(60_000);
    await writeFile(file, v3.bytes);
    const args = ["upload", "--over-mqtt", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA)];
    expect((await runCli([...args, "version.csv"], tmp)).stderr).toMatch(/\[file_exists\]/);
    const replaced = await runCli([...args, "--overwrite", "version.csv"], tmp);
    expect(replaced.stdout).toMatch(/uploaded version\.csv over MQTT/);
    expect(replaced.code).toBe(0);
    expect((await stored(key)).equals(v3.bytes)).toBe(true);
    expect(await row()).toMatchObject({ size: BigInt(v3.bytes.length), sha256: v3.sha256 });
  });
});
