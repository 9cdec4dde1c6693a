/**
 * The short fault suite (`npm run bench -- faults --short`, docs/reliability.md) as a test: 10
 * devices upload while each of the five faults hits, and every fault must meet every target —
 * no request lost or answered twice, every upload stored byte for byte, no file pending 60 s after
 * the load stopped, no orphan object or temp file.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import type { TFaultResult } from "../src/faults/main";

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

it("meets every target under each of the five faults", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "fd-faults-test-"));
  const jsonFile = path.join(dir, "results.json");
  try {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(benchDir, "src/faults/main.ts"), "--short", "--json", jsonFile], {
      cwd: benchDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    console.log(output);
    expect(code, "the suite ran to the end (exit 0: all targets met, 1: some missed)").not.toBe(2);
    const { results } = JSON.parse(await readFile(jsonFile, "utf8")) as { results: TFaultResult[] };
    expect(results.map((result) => result.fault)).toEqual([
      "worker-kill",
      "postgres-restart",
      "broker-restart",
      "storage-outage",
      "client-id-takeover",
    ]);
    for (const result of results) {
      expect.soft(result.books.sent, `${result.title}: requests sent`).toBeGreaterThan(0);
      expect.soft(result.missed, `${result.title}: targets missed`).toEqual([]);
    }
    expect(code).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
