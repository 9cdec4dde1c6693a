/**
 * The worker's Node flags are listed once (runtime-flags.ts) but also spelled out where no
 * TypeScript runs: the container's CMD and this package's `start` script. Both must carry each.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { WORKER_NODE_FLAGS } from "./runtime-flags";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");

function workerCmd(): string[] {
  const dockerfile = readFileSync(path.join(repo, "deploy/docker/Dockerfile"), "utf8");
  const stage = dockerfile.slice(dockerfile.indexOf("AS worker"));
  const cmd = /^CMD (\[.*\])$/m.exec(stage.slice(0, stage.indexOf("\nFROM ")));
  expect(cmd, "the worker stage has a CMD in exec form").not.toBeNull();
  return JSON.parse(cmd![1]!) as string[];
}

describe("the worker's runtime flags", () => {
  it("are in the container's worker CMD, before the script", () => {
    const cmd = workerCmd();
    const script = cmd.indexOf("dist/index.js");
    expect(script).toBeGreaterThan(0);
    for (const flag of WORKER_NODE_FLAGS) expect(cmd.slice(0, script)).toContain(flag);
  });

  it("are in the package's start script, before the script", () => {
    const start = (JSON.parse(readFileSync(path.join(here, "../package.json"), "utf8")) as { scripts: Record<string, string> }).scripts
      .start!;
    const args = start.split(/\s+/);
    const script = args.indexOf("dist/index.js");
    expect(script).toBeGreaterThan(0);
    for (const flag of WORKER_NODE_FLAGS) expect(args.slice(0, script)).toContain(flag);
  });

  it("are flags this Node accepts", () => {
    // node rejects an unknown V8 flag only when it runs; check each one starts a process.
    for (const flag of WORKER_NODE_FLAGS) {
      expect(() => execFileSync(process.execPath, [flag, "-e", "0"], { stdio: "pipe" }), flag).not.toThrow();
    }
  });
});
