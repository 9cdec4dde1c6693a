/**
 * The agent's bad situations, each against a stand-in for the platform (the end-to-end run against
 * the real one is apps/ingest-worker/test/agent.integration.test.ts): one clear line per
 * situation, and nothing lost.
 */
import { EventEmitter } from "node:events";
import { createHash } from "node:crypto";
import { appendFile, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FleetdropDevice, TUploadFileInput } from "../client";
import { FleetdropError, StorageRejectedError } from "../errors";
import type { TUploadOverMqttInput } from "../mqtt-transfer";
import { UploadAgent } from "./agent";
import { parseAgentConfig } from "./config";
import { createAgentLog } from "./log";
import { AgentQueue } from "./queue";

let dir: string;
let lines: string[];
let agent: UploadAgent | null;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "fd-agent-"));
  lines = [];
  agent = null;
});
afterEach(async () => {
  await agent?.stop();
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

type TUpload = (input: TUploadFileInput) => Promise<{ fileId: string; objectKey: string; size: number; attempts: number }>;

function fakeDevice(upload: TUpload, platformTime: () => string = () => new Date().toISOString()) {
  const client = Object.assign(new EventEmitter(), { connected: true });
  const device = {
    client,
    options: { deviceId: "ROBOT-1" },
    request: vi.fn(async () => ({ success: true, status: 200, timestamp: platformTime(), received_at: platformTime() })),
    openSession: vi.fn(async () => ({ session_id: 7 })),
    closeSession: vi.fn(async () => ({})),
    uploadFile: vi.fn(upload),
    uploadOverMqtt: vi.fn(async (input: TUploadOverMqttInput) => ({
      fileId: "f",
      objectKey: `k/${input.filename}`,
      size: 1,
      sha256: "",
      sent: 1,
      attempts: 1,
    })),
    close: vi.fn(async () => {}),
  };
  return device;
}

async function startAgent(device: ReturnType<typeof fakeDevice>, stableSeconds = 0, rule: Record<string, unknown> = {}) {
  const folder = path.join(dir, "in");
  await import("node:fs/promises").then((fs) => fs.mkdir(folder, { recursive: true }));
  const config = parseAgentConfig(
    JSON.stringify({
      stateDir: path.join(dir, "state"),
      statusSeconds: 5,
      rules: [{ name: "logs", folder, ready: { stableSeconds }, ...rule }],
    }),
    path.join(dir, "agent.json"),
  );
  config.connection.deviceId = "ROBOT-1";
  agent = new UploadAgent({
    config,
    log: createAgentLog((line) => lines.push(line)),
    connect: async () => device as unknown as FleetdropDevice,
  });
  await agent.start();
  return folder;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${lines.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Puts a whole file into the folder at once (written in place, it may be seen empty first and then change). */
async function drop(folder: string, name: string, content: string): Promise<string> {
  const file = path.join(folder, name);
  await writeFile(path.join(dir, name), content);
  await rename(path.join(dir, name), file);
  return file;
}

const ok = async (input: TUploadFileInput) => ({ fileId: "f", objectKey: `k/${input.filename}`, size: 1, attempts: 1 });
const matching = (pattern: RegExp) => lines.filter((line) => pattern.test(line));

describe("the agent in bad situations", () => {
  it("a file deleted during its upload: one line, dropped from the queue", async () => {
    const device = fakeDevice(async (input) => {
      await rm(input.path);
      throw Object.assign(new Error(`ENOENT: no such file, open '${input.path}'`), { code: "ENOENT" });
    });
    const folder = await startAgent(device);
    await drop(folder, "gone.log", "x");
    await until("the deletion is noticed", () => matching(/gone\.log: the file was deleted/).length === 1);
    expect(agent!.backlog().files).toBe(0);
  });

  it("a file still growing during its upload: noticed, and sent again (replacing the first) once it is ready", async () => {
    const sent: { overwrite?: boolean; content: string }[] = [];
    const device = fakeDevice(async (input) => {
      sent.push({ overwrite: input.overwrite, content: await readFile(input.path, "utf8") });
      if (sent.length === 1) await appendFile(input.path, " and more");
      return ok(input);
    });
    const folder = await startAgent(device);
    await drop(folder, "grow.log", "start");
    await until("the second upload", () => sent.length === 2);
    expect(sent).toEqual([
      { overwrite: false, content: "start" },
      { overwrite: true, content: "start and more" },
    ]);
    expect(matching(/grow\.log: changed while it was being uploaded/)).toHaveLength(1);
    await until("done", () => agent!.backlog().files === 0);
  });

  it("an MQTT rule sends a file that changed after it was stored again, replacing the stored one", async () => {
    const sent: { overwrite?: boolean; content: string }[] = [];
    const device = fakeDevice(ok);
    device.uploadOverMqtt.mockImplementation(async (input) => {
      sent.push({ overwrite: input.overwrite, content: await readFile(input.path, "utf8") });
      return { fileId: "f", objectKey: `k/${input.filename}`, size: 1, sha256: "", sent: 1, attempts: 1 };
    });
    const folder = await startAgent(device, 0, { transport: "mqtt" });
    await drop(folder, "run.csv", "v1");
    await until("the first upload", () => sent.length === 1);
    await until("done", () => agent!.backlog().files === 0);
    await drop(folder, "run.csv", "v2, longer");
    await until("the second upload", () => sent.length === 2);
    expect(sent).toEqual([
      { overwrite: false, content: "v1" },
      { overwrite: true, content: "v2, longer" },
    ]);
    expect(device.uploadFile).not.toHaveBeenCalled();
    await until("done again", () => agent!.backlog().files === 0);
    expect(matching(/run\.csv: .*(refused|failed)/)).toEqual([]);
  }, 30_000);

  it("a file replaced just after its upload, while the agent saves it as done: the new version is sent too", async () => {
    const sent: string[] = [];
    const device = fakeDevice(async (input) => {
      sent.push(await readFile(input.path, "utf8"));
      return ok(input);
    });
    const save = Object.getOwnPropertyDescriptor(AgentQueue.prototype, "save")!.value as (this: AgentQueue) => Promise<void>;
    let folder = "";
    let replaced = false;
    vi.spyOn(AgentQueue.prototype, "save").mockImplementation(async function (this: AgentQueue) {
      if (!replaced && sent.length === 1 && [...this.all()].some((entry) => entry.status === "done")) {
        replaced = true;
        await drop(folder, "run.csv", "v2, longer");
        // The change event arrives while the upload is still the one under way.
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return save.call(this);
    });
    folder = await startAgent(device);
    await drop(folder, "run.csv", "v1");
    await until("the second upload", () => sent.length === 2);
    expect(sent).toEqual(["v1", "v2, longer"]);
    expect(device.uploadFile.mock.calls[1]![0].overwrite).toBe(true);
  });

  it("permission denied: one line however often it is tried, and the file stays queued", async () => {
    const device = fakeDevice(async () => {
      throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    });
    const folder = await startAgent(device);
    await drop(folder, "secret.log", "x");
    await until("the refusal is logged", () => matching(/secret\.log: cannot read .*permission denied \(EACCES\)/).length === 1);
    expect(agent!.backlog()).toMatchObject({ files: 1, bytes: 1 });
  });

  it("a disk too full for the queue: one line, the queue is kept in memory and written once there is room", async () => {
    const save = vi.spyOn(AgentQueue.prototype, "save");
    save.mockRejectedValueOnce(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
    save.mockRejectedValueOnce(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
    const device = fakeDevice(ok);
    const folder = await startAgent(device);
    await drop(folder, "a.log", "x");
    await until("the queue saved again", () => matching(/the queue is saved again/).length === 1);
    expect(matching(/cannot save the queue .*disk full \(ENOSPC\)/)).toHaveLength(1);
    await until("the file sent", () => device.uploadFile.mock.calls.length === 1);
  });

  it("a clock far off: the status report notices it, and expired forms say to check the clock", async () => {
    const device = fakeDevice(
      async () => {
        throw new StorageRejectedError(403, "AccessDenied", "Invalid according to Policy: Policy expired");
      },
      () => new Date(Date.now() - 2 * 3600_000).toISOString(),
    );
    const folder = await startAgent(device);
    await drop(folder, "a.log", "x");
    await until("the clock line", () => matching(/clock is \d+ s ahead of the platform's/).length === 1);
    await until("the form line", () => matching(/a\.log: storage refused the upload form as expired .*clock/).length === 1);
    expect(agent!.backlog().files).toBe(1);
    expect(lines.join("\n")).not.toMatch(/a\.log: the platform refused it/);
  });

  it("a permanent refusal flags the file with the platform's code and keeps it; the status report carries it as last_error", async () => {
    const device = fakeDevice(async () => {
      throw new FleetdropError("A file with this name already exists in the session", "file_exists", 409);
    });
    const folder = await startAgent(device);
    await drop(folder, "dup.log", "x");
    // Wait for the refusal itself: an earlier "changed after it was found ready" also leaves the
    // entry failed for a moment, before it is tried again.
    const line = /dup\.log: a file named dup\.log is already in session 7, .*no SHA-256.*; kept here, not uploaded/;
    await until("the refusal", () => matching(line).length > 0);
    expect(matching(line)).toHaveLength(1);
    expect(agent!.entries().some((entry) => entry.status === "failed" && entry.lastError?.includes("file_exists"))).toBe(true);
    await until("reported", () =>
      device.request.mock.calls.some((call) =>
        String((call as unknown[])[1] && ((call as unknown[])[1] as { last_error?: string }).last_error).includes("file_exists"),
      ),
    );
  });
});

describe("file_exists: the name is taken in the session", () => {
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  /** The first attempt's answer is lost (here: its session closed under it), the second finds the name taken. */
  function takenOnRetry(existing: { size: number | null; sha256: string | null }) {
    const sent: TUploadFileInput[] = [];
    const device = fakeDevice(async (input) => {
      sent.push(input);
      if (sent.length === 1) throw new FleetdropError("Session is closed", "session_closed", 409);
      throw new FleetdropError("A file with this name is already uploaded in this session", "file_exists", 409, undefined, {
        ...existing,
        uploaded_at: "2026-01-02T03:04:05.678Z",
      });
    });
    return { device, sent };
  }

  it("a different file of that name (same size, another SHA-256) is stored: the local file is kept, flagged, not deleted", async () => {
    const { device, sent } = takenOnRetry({ size: 5, sha256: sha256("other") });
    const folder = await startAgent(device, 0, { afterUpload: "delete" });
    const file = await drop(folder, "run.log", "local");
    const line = new RegExp(
      String.raw`run\.log: a different file named run\.log is already in session 7 \(5 B, SHA-256 [0-9a-f]{12}…\) ` +
        String.raw`\[file_exists\]; kept here, not uploaded`,
    );
    await until("the flag", () => matching(line).length > 0);
    expect(matching(line)).toHaveLength(1);
    expect(await readFile(file, "utf8")).toBe("local");
    expect(agent!.entries()).toMatchObject([{ status: "failed", lastError: expect.stringContaining("file_exists") }]);
    expect(lines.join("\n")).not.toMatch(/already in session 7 with the same/);

    // Changed, it is tried again, and still does not replace the other file.
    await appendFile(file, " and more");
    await until("the next version tried", () => sent.length === 3);
    expect(sent[2]!.overwrite).toBe(false);
    // Flagged again (the same problem: no second line until it is resolved).
    await until("flagged again", () => agent!.entries().some((entry) => entry.status === "failed" && entry.size === 14));
    expect(await readFile(file, "utf8")).toBe("local and more");
  });

  it("a stored file whose SHA-256 the platform does not know is not taken for this one: kept, flagged", async () => {
    const { device } = takenOnRetry({ size: 5, sha256: null });
    const folder = await startAgent(device, 0, { afterUpload: "delete" });
    const file = await drop(folder, "run.log", "local");
    await until(
      "the flag",
      () => matching(/run\.log: a file named run\.log is already in session 7, .*kept here, not uploaded/).length > 0,
    );
    expect(await readFile(file, "utf8")).toBe("local");
  });

  it("the file an earlier attempt stored (same size and SHA-256): done, and the after-upload action runs", async () => {
    const { device } = takenOnRetry({ size: 5, sha256: sha256("local") });
    const folder = await startAgent(device, 0, { afterUpload: "delete" });
    const file = await drop(folder, "run.log", "local");
    await until("done", () => matching(/run\.log: already in session 7 with the same size and SHA-256/).length === 1);
    await until("deleted", async () => (await stat(file).catch(() => null)) === null);
    expect(agent!.backlog().files).toBe(0);
    expect(lines.join("\n")).not.toMatch(/kept here, not uploaded/);
  });
});
