/**
 * `npm run bench [-- name [options]]`: runs the named benchmark, or all of them in turn.
 * Results go to stdout with the machine they ran on; docs/benchmarks.md records them.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_NODE_FLAGS } from "@fleetdrop/ingest-worker/runtime-flags";

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHMARKS: Record<string, string> = {
  "mqtt-transfer": "mqtt-transfer.ts",
  "chunk-forwarding": "chunk-forwarding.ts",
  webhooks: "webhooks.ts",
  "upload-requests": "upload-requests.ts",
  "fs-upload": "fs-upload.ts",
  "fs-slow-clients": "fs-slow-clients.ts",
  "multipart-fs": "multipart-fs.ts",
  "multipart-resume": "multipart-resume.ts",
  "scale-out": "scale-out.ts",
  faults: "faults/main.ts",
  agent: "agent.ts",
};

/**
 * Node flags of a benchmark's own process. mqtt-transfer's process is the device and the ceiling's
 * publisher and counting subscriber: it runs with the worker's flags, so that the two sides of the
 * comparison run the same V8 settings. Without them its mqtt.js client fell into the storms of full
 * GCs that runtime-flags.ts describes (8 Mark-Compacts within one 0.5 s ceiling, `--trace-gc`), and
 * the ceiling it measured at 64 KiB ranged from 449 to 835 MB/s within one invocation.
 */
const NODE_FLAGS: Record<string, readonly string[]> = { "mqtt-transfer": WORKER_NODE_FLAGS };

const [name, ...rest] = process.argv.slice(2);
const chosen = name && !name.startsWith("-") ? [name] : Object.keys(BENCHMARKS);
let failed = 0;
for (const bench of chosen) {
  const file = BENCHMARKS[bench];
  if (!file) {
    console.error(`unknown benchmark ${bench}; choose one of: ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n## ${bench}\n`);
  const args = [...(NODE_FLAGS[bench] ?? []), "--import", "tsx", path.join(here, file), ...(name === bench ? rest : [])];
  const result = spawnSync(process.execPath, args, { stdio: "inherit", cwd: path.join(here, "..") });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
