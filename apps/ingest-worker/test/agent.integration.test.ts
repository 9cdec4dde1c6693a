/**
 * `fleetdrop-device agent` end to end: the real command line (its own process) against a real
 * worker, Mosquitto and the fs store. Files dropped into watched folders arrive; with the broker
 * stopped the agent keeps collecting; when the broker is back every file arrives exactly once,
 * byte for byte; SIGTERM stops it cleanly and its last report is on the platform.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, sleep, type THarness } from "./harness";
import { storedBytes } from "./support/stored";

let h: THarness;
let tmp: string;
let agent: ChildProcess | null = null;
let output = "";

const MAIN = fileURLToPath(new URL("../../../packages/device/src/cli/main.ts", import.meta.url));
const TSX = createRequire(fileURLToPath(new URL("../../../packages/device/package.json", import.meta.url))).resolve("tsx/cli");

beforeAll(async () => {
  h = await createHarness("agent");
  await h.startWorker({ transfer: { maxSegmentBytes: 256 * 1024 } });
  tmp = await mkdtemp(path.join(tmpdir(), "fd-agent-"));
});

afterAll(async () => {
  // tsx runs the agent in a child process of its own: the whole group goes, or that child is left running.
  if (agent?.pid) {
    try {
      process.kill(-agent.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await h?.close();
});

// Only objects the test saw stored are read: a missing one fails the test here.
const stored = async (key: string) => (await storedBytes(h.store, key))!;

function startAgent(config: string): ChildProcess {
  const child = spawn(process.execPath, [TSX, MAIN, "agent", "--config", config], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return child;
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\nagent output:\n${output}`);
    await sleep(200);
  }
}

describe("fleetdrop-device agent", () => {
  it("uploads what is dropped into its folders, keeps collecting with the broker down; every file arrives once, byte-exact", async () => {
    const logs = path.join(tmp, "logs");
    const video = path.join(tmp, "video");
    await mkdir(logs, { recursive: true });
    await mkdir(video, { recursive: true });
    const config = path.join(tmp, "agent.yaml");
    await writeFile(
      config,
      [
        `stateDir: ${path.join(tmp, "state")}`,
        "connection:",
        `  url: ${h.broker.url}`,
        "  deviceId: ROBOT-A",
        "  protocolVersion: 5",
        "  timeoutSeconds: 3",
        "statusSeconds: 5",
        "rules:",
        "  - name: logs",
        `    folder: ${logs}`,
        '    include: ["*.log"]',
        "    ready: { stableSeconds: 1 }",
        "    priority: 10",
        "    session: { per: day }",
        "  - name: video",
        `    folder: ${video}`,
        '    ready: { renamedFrom: ["*.part"] }',
        "    transport: mqtt",
        '    session: { name: "agent video" }',
        "    afterUpload: delete",
        "",
      ].join("\n"),
    );
    const expected = new Map<string, Buffer>();
    const dropLog = async (name: string, size: number) => {
      const bytes = randomBytes(size);
      expected.set(name, bytes);
      await writeFile(path.join(logs, name), bytes);
    };
    const dropVideo = async (name: string, size: number) => {
      const bytes = randomBytes(size);
      expected.set(name, bytes);
      await writeFile(path.join(video, `${name}.part`), bytes);
      await rename(path.join(video, `${name}.part`), path.join(video, name));
    };
    // Not for the agent: excluded by the include list, or still under a temporary name.
    await writeFile(path.join(logs, "notes.txt"), "not a log");
    await writeFile(path.join(video, "half.mcap.part"), "still being written");

    agent = startAgent(config);
    await dropLog("a.log", 1000);
    await dropLog("b.log", 200_000);
    await dropVideo("one.mcap", 600_000);

    const files = () => h.prisma.file.findMany({ where: { session: { device: { serial: "ROBOT-A" } } }, include: { session: true } });
    await until("the first three files", async () => (await files()).filter((f) => f.state === "uploaded").length >= 3);

    await h.broker.stop();
    await dropLog("c.log", 5000);
    await dropLog("d.log", 300_000);
    await dropVideo("two.mcap", 1_500_000);
    await dropVideo("three.mcap", 10);
    await until("the agent notices the broker is gone", async () => /lost the broker|cannot reach the broker/.test(output));
    await sleep(3000);
    await h.broker.start();

    const all = await until("every file", async () => {
      const rows = await files();
      return rows.filter((f) => f.state === "uploaded").length >= expected.size && rows;
    });
    // Exactly once: one row per name, nothing else, each byte-exact in storage.
    expect(all.map((f) => f.filename).sort()).toEqual([...expected.keys()].sort());
    for (const file of all) {
      expect(file.state).toBe("uploaded");
      // Buffer.equals: a deep equality of megabytes is slow.
      expect((await stored(file.objectKey)).equals(expected.get(file.filename)!), file.filename).toBe(true);
    }
    // How each arrived, as the file's page shows it: the logs through forms the agent asked for, the videos over MQTT.
    const via = (name: string) => (name.endsWith(".log") ? "agent" : "mqtt_transfer");
    expect(Object.fromEntries(all.map((f) => [f.filename, f.arrivedVia]))).toEqual(
      Object.fromEntries([...expected.keys()].map((name) => [name, via(name)])),
    );
    const sessions = new Map(all.map((f) => [f.filename, f.session.name]));
    expect(sessions.get("a.log")).toBe(`logs ${new Date().toISOString().slice(0, 10)}`);
    expect(sessions.get("one.mcap")).toBe("agent video");
    // delete after confirmation for video; logs are kept; temporary and excluded files untouched.
    await until("the uploaded videos are deleted", async () => {
      const left = await readdir(video);
      return left.length === 1 && left[0] === "half.mcap.part";
    });
    expect((await readdir(logs)).sort()).toEqual(["a.log", "b.log", "c.log", "d.log", "notes.txt"]);

    // Its report reaches the platform once it has nothing left to send.
    await until("an empty backlog reported", async () => {
      const status = await h.prisma.deviceAgentStatus.findFirst({ where: { device: { serial: "ROBOT-A" } } });
      return status?.backlogFiles === 0 && status;
    });

    // SIGTERM: a clean stop, exit 0.
    const exited = new Promise<number | null>((resolve) => agent!.once("exit", (code) => resolve(code)));
    agent.kill("SIGTERM");
    expect(await exited).toBe(0);
    agent = null;
    expect(output).toMatch(/agent stopped/);
    // No duplicate upload in its own account either.
    for (const name of expected.keys())
      expect(output.match(new RegExp(`uploaded ${name.replace(".", "\\.")} `, "g"))?.length ?? 0).toBeLessThanOrEqual(1);

    // A restart with everything already sent sends nothing again.
    const before = output.length;
    agent = startAgent(config);
    await until("the restarted agent is up", async () => /agent started: 2 rules, 0 files waiting/.test(output.slice(before)));
    await sleep(2500);
    expect(output.slice(before)).not.toMatch(/uploaded /);
    expect((await files()).length).toBe(expected.size);
  }, 240_000);
});
