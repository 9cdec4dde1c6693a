/**
 * The device SDK's `uploadMultipart` and the command line's `upload` of large files, against a
 * real worker, Mosquitto and the fs store: parts in parallel, a process killed in the middle and
 * run again (only what storage does not hold is sent), and `--max-rate` counted through a clock
 * the test moves (no timing assertions).
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetdropDevice } from "@fleetdrop/device/client";
import type { TMultipartState } from "@fleetdrop/device/multipart-upload";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, sleep, type THarness } from "./harness";
import { storedBytes } from "./support/stored";
import { DEVICE_CLI as CLI, runDeviceCli } from "./support/device-cli";

const MIB = 1024 * 1024;

let h: THarness;
let tmp: string;
let sql: pg.Client;

beforeAll(async () => {
  h = await createHarness("devmultipart");
  await h.startWorker();
  tmp = await mkdtemp(path.join(tmpdir(), "fd-devmultipart-"));
  sql = new pg.Client({ connectionString: h.db.url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await h?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// Only objects the test saw stored are read: a missing one fails the test here.
const stored = async (key: string) => (await storedBytes(h.store, key))!;

async function heldParts(objectKey: string): Promise<number> {
  const row = await sql.query<{ store_upload_id: string }>(
    "SELECT store_upload_id FROM multipart_uploads WHERE object_key = $1 AND state = 'open'",
    [objectKey],
  );
  if (!row.rows[0]) return 0;
  return (await h.store.listParts(objectKey, row.rows[0].store_upload_id).catch(() => [])).length;
}

/** Runs the CLI to its end in `cwd`. */
const run = (cwd: string, args: string[]) => runDeviceCli(args, { cwd });

describe("device SDK: uploadMultipart", () => {
  it("sends the parts in parallel and the platform checks the SHA-256", async () => {
    const bytes = randomBytes(3 * 5 * MIB + 777);
    const file = path.join(tmp, "lidar.bin");
    await writeFile(file, bytes);
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      const seen: number[] = [];
      const result = await device.uploadMultipart(file, {
        session: h.seed.openA,
        filename: "scans/lidar.bin",
        partSize: 5 * MIB,
        concurrency: 4,
        onProgress: (p) => seen.push(p.sent),
      });
      expect(result).toMatchObject({ partCount: 4, partsSent: 4, partsHeld: 0, size: bytes.length });
      expect(seen.at(-1)).toBe(bytes.length);
      expect(
        createHash("sha256")
          .update(await stored(result.objectKey))
          .digest("hex"),
      ).toBe(createHash("sha256").update(bytes).digest("hex"));
      const row = await sql.query("SELECT state::text AS state FROM files WHERE id = $1", [result.fileId]);
      expect(row.rows[0]).toEqual({ state: "uploaded" });
    } finally {
      await device.close();
    }
  });

  it("passes every byte through the --max-rate cap (counted on a clock the test moves)", async () => {
    const bytes = randomBytes(2 * 5 * MIB);
    const file = path.join(tmp, "capped.bin");
    await writeFile(file, bytes);
    let waited = 0;
    const clock = { now: () => waited, sleep: async (ms: number) => void (waited += ms) };
    const device = await FleetdropDevice.connect({ url: h.broker.url, deviceId: "ROBOT-A" });
    try {
      await device.uploadMultipart(file, { session: h.seed.openA, partSize: 5 * MIB, concurrency: 2, maxRate: MIB, clock });
      // 10 MiB at 1 MiB/s, less the quarter-second burst: the cap asked for 9.75 s of waiting.
      expect(waited).toBeGreaterThanOrEqual(9750);
      expect(waited).toBeLessThan(11_000);
    } finally {
      await device.close();
    }
  });
});

describe("fleetdrop-device upload of a large file", () => {
  it("killed in the middle, run again: sends only the parts storage does not hold, at most those in flight again", async () => {
    const bytes = randomBytes(6 * 5 * MIB + 12_345);
    const file = path.join(tmp, "run-7.mcap");
    await writeFile(file, bytes);
    const objectKey = `sessions/ROBOT-A/${h.seed.openA}/run-7.mcap`;
    const args = [
      "upload",
      "--url",
      h.broker.url,
      "--device",
      "ROBOT-A",
      "--session",
      String(h.seed.openA),
      "--part-size",
      "5m",
      "--concurrency",
      "1",
      "--multipart-above",
      "1m",
      "--json",
    ];
    // Slow enough (4 MiB/s) to be caught in the middle.
    // Its own process group: the launcher runs the CLI in child processes, and all of them die together, as in a power cut.
    const first = spawn(process.execPath, [CLI, ...args, "--max-rate", "4m", file], {
      cwd: tmp,
      env: { ...process.env, INIT_CWD: tmp },
      detached: true,
      stdio: "ignore",
    });
    let held = 0;
    for (let waited = 0; held < 3 && waited < 60_000; waited += 50) {
      await sleep(50);
      held = await heldParts(objectKey);
    }
    const exited = new Promise((resolve) => first.once("exit", resolve));
    process.kill(-first.pid!, "SIGKILL");
    await exited;
    held = await heldParts(objectKey);
    expect(held).toBeGreaterThanOrEqual(3);
    expect(held).toBeLessThan(7);
    expect(await readdir(path.join(tmp, ".fleetdrop", "uploads"))).toHaveLength(1);

    const second = await runDeviceCli([...args, file], { cwd: tmp });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const line = JSON.parse(second.stdout.trim()) as { partCount: number; partsSent: number; partsHeld: number; objectKey: string };
    expect(line).toMatchObject({ partCount: 7, partsHeld: held, partsSent: 7 - held, objectKey });
    expect((await stored(objectKey)).equals(bytes)).toBe(true);
    // Done: the state file is gone.
    expect(await readdir(path.join(tmp, ".fleetdrop", "uploads"))).toHaveLength(0);
  });
});

describe("fleetdrop-device resume of a large file", () => {
  it("lists the interrupted multipart upload, finishes it, and knows it done when its state file outlived it", async () => {
    const cwd = await mkdtemp(path.join(tmp, "resume-"));
    const bytes = randomBytes(4 * 5 * MIB + 99);
    const file = path.join(cwd, "run-9.mcap");
    await writeFile(file, bytes);
    const objectKey = `sessions/ROBOT-A/${h.seed.openA}/run-9.mcap`;
    const connection = ["--url", h.broker.url, "--device", "ROBOT-A"];
    const first = spawn(
      process.execPath,
      [CLI, "upload", ...connection, "--session", String(h.seed.openA), "--part-size", "5m", "--concurrency", "1"].concat([
        "--multipart-above",
        "1m",
        "--max-rate",
        "4m",
        "--json",
        file,
      ]),
      { cwd, env: { ...process.env, INIT_CWD: cwd }, detached: true, stdio: "ignore" },
    );
    let held = 0;
    for (let waited = 0; held < 2 && waited < 60_000; waited += 50) {
      await sleep(50);
      held = await heldParts(objectKey);
    }
    const exited = new Promise((resolve) => first.once("exit", resolve));
    process.kill(-first.pid!, "SIGKILL");
    await exited;
    const states = path.join(cwd, ".fleetdrop", "uploads");
    const [stateName] = await readdir(states);
    const stateFile = path.join(states, stateName!);
    const state = await readFile(stateFile, "utf8");

    const listed = await run(cwd, ["resume", "--list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`run-9.mcap (20 MiB) into session ${h.seed.openA} as ROBOT-A, in parts`);
    expect(listed.stdout).toContain(stateFile);

    const resumed = await run(cwd, ["resume", ...connection, "--json"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const line = JSON.parse(resumed.stdout.trim()) as { ok: boolean; partsHeld: number; partsSent: number; objectKey: string };
    expect(line).toMatchObject({ ok: true, objectKey, partCount: 5 });
    expect(line.partsHeld).toBeGreaterThanOrEqual(2);
    expect(line.partsHeld + line.partsSent).toBe(5);
    expect((await stored(objectKey)).equals(bytes)).toBe(true);
    expect(await readdir(states)).toEqual([]);

    // A run killed after the platform joined the file, before it removed its state file: the
    // platform holds this very file (same size and SHA-256), so resume says so and forgets it.
    await writeFile(stateFile, state);
    const again = await run(cwd, ["resume", ...connection]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already stored run-9\.mcap: the platform holds it, same size and SHA-256 \(20 MiB, /);
    expect(await readdir(states)).toEqual([]);

    // Another file has replaced it under that name since: that is not taken for this one; the
    // upload can never complete, so resume drops it (and the local file stays).
    const replacement = path.join(cwd, "other.bin");
    await writeFile(replacement, randomBytes(1000));
    const replaced = await run(
      cwd,
      ["upload", ...connection, "--session", String(h.seed.openA), "--name", "run-9.mcap", "--overwrite"].concat([replacement]),
    );
    expect(replaced.code, replaced.stderr).toBe(0);
    await writeFile(stateFile, state);
    const dropped = await run(cwd, ["resume", ...connection]);
    expect(dropped.code, dropped.stdout + dropped.stderr).toBe(0);
    expect(dropped.stderr).toMatch(/dropping run-9\.mcap: .*\[file_exists\]; this upload can never complete/);
    expect(dropped.stdout).not.toMatch(/already stored/);
    expect(await readdir(states)).toEqual([]);
  });
});

describe("fleetdrop-device upload of a file the platform already holds", () => {
  const uploadedAt = async (filename: string) =>
    (await h.prisma.file.findFirstOrThrow({ where: { sessionId: h.seed.openA, filename } })).uploadedAt!.toISOString();

  it("in one form POST: the same file again exits 0 and says it is stored; another file of that name still fails", async () => {
    const cwd = await mkdtemp(path.join(tmp, "form-again-"));
    const file = path.join(cwd, "photo.jpg");
    const bytes = randomBytes(40_000);
    const digest = createHash("sha256").update(bytes).digest("hex");
    await writeFile(file, bytes);
    const args = ["upload", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA), "photo.jpg"];
    expect((await run(cwd, args)).code).toBe(0);
    const again = await run(cwd, args);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(
      "already stored photo.jpg: the platform holds it, same size and SHA-256 " +
        `(39.1 KiB, sha256 ${digest.slice(0, 12)}…), uploaded ${await uploadedAt("photo.jpg")}\n`,
    );
    expect(again.stderr).not.toMatch(/failed/);

    await writeFile(file, randomBytes(40_000));
    const other = await run(cwd, args);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/failed photo\.jpg: .*\[file_exists\]/);
    expect(other.stdout).not.toMatch(/already stored/);
  });

  it("in parts: the same file again exits 0, and a state file an earlier run left of it is removed; another file still fails", async () => {
    const cwd = await mkdtemp(path.join(tmp, "parts-again-"));
    const file = path.join(cwd, "run-12.mcap");
    const bytes = randomBytes(5 * MIB + 4321);
    await writeFile(file, bytes);
    const digest = createHash("sha256").update(bytes).digest("hex");
    const args = ["upload", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA), "--multipart"];
    const first = await run(cwd, [...args, "--json", "run-12.mcap"]);
    expect(first.code, first.stderr).toBe(0);
    const { uploadId } = JSON.parse(first.stdout.trim()) as { uploadId: string };
    const states = path.join(cwd, ".fleetdrop", "uploads");
    expect(await readdir(states)).toEqual([]);
    // A run killed after the platform stored the file, before it removed its state file.
    const { size, mtimeMs } = await stat(file);
    const stateName = createHash("sha256")
      .update(JSON.stringify(["ROBOT-A", h.seed.openA, "run-12.mcap", file, size, mtimeMs]))
      .digest("hex")
      .slice(0, 32);
    const state: TMultipartState = {
      version: 1,
      kind: "multipart",
      uploadId,
      deviceId: "ROBOT-A",
      sessionId: h.seed.openA,
      path: file,
      filename: "run-12.mcap",
      contentType: "application/octet-stream",
      size,
      mtimeMs,
      sha256: digest,
      updatedAt: new Date().toISOString(),
    };
    await writeFile(path.join(states, `${stateName}.json`), JSON.stringify(state));

    const again = await run(cwd, [...args, "run-12.mcap"]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(
      "already stored run-12.mcap: the platform holds it, same size and SHA-256 " +
        `(5 MiB, sha256 ${digest.slice(0, 12)}…), uploaded ${await uploadedAt("run-12.mcap")}\n`,
    );
    expect(await readdir(states)).toEqual([]);
    const json = await run(cwd, [...args, "--json", "run-12.mcap"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ ok: true, multipart: true, already: true, size, sha256: digest });

    await writeFile(file, randomBytes(5 * MIB + 4321));
    const other = await run(cwd, [...args, "run-12.mcap"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/failed run-12\.mcap: .*\[file_exists\]/);
    expect(other.stdout).not.toMatch(/already stored/);
    expect(await readdir(states)).toEqual([]);
  });
});

describe("fleetdrop-device upload --max-rate of a file sent in one POST", () => {
  it("sends the form POST at the capped rate too, not only the parts of large files", async () => {
    const bytes = randomBytes(2 * MIB);
    const file = path.join(tmp, "capped-form.bin");
    await writeFile(file, bytes);
    const args = ["upload", "--url", h.broker.url, "--device", "ROBOT-A", "--session", String(h.seed.openA), "--json"];
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args, "--max-rate", "512k", file], {
        cwd: tmp,
        env: { ...process.env, INIT_CWD: tmp },
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("exit", (code) => resolve({ code: code ?? -1, output }));
    });
    expect(run.code, run.output).toBe(0);
    expect(JSON.parse(run.output.trim())).toMatchObject({ ok: true, size: bytes.length });
    expect(JSON.parse(run.output.trim())).not.toHaveProperty("multipart");
    // From the form's issue to the object's arrival, as the platform saw them: 2 MiB at 512 KiB/s
    // less the cap's quarter-second burst needs 3.75 s; unthrottled it takes milliseconds here.
    const row = await sql.query<{ seconds: number }>(
      "SELECT EXTRACT(EPOCH FROM uploaded_at - issued_at)::float8 AS seconds FROM files WHERE session_id = $1 AND filename = $2",
      [h.seed.openA, "capped-form.bin"],
    );
    expect(row.rows[0]!.seconds).toBeGreaterThan(2);
    expect((await stored(`sessions/ROBOT-A/${h.seed.openA}/capped-form.bin`)).equals(bytes)).toBe(true);
  });
});
