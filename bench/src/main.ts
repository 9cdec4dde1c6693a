/**
 * `npm run bench [-- name [options]]`: runs the named benchmark, or all of them in turn.
 * Results go to stdout with the machine they ran on; docs/benchmarks.md records them.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHMARKS: Record<string, string> = {
  "mqtt-transfer": "mqtt-transfer.ts",
  "chunk-forwarding": "chunk-forwarding.ts",
  "upload-requests": "upload-requests.ts",
  "fs-upload": "fs-upload.ts",
  "scale-out": "scale-out.ts",
};

const [name, ...rest] = process.argv.slice(2);
const chosen = name && !name.startsWith("-") ? [name] : Object.keys(BENCHMARKS);
const tsx = createRequire(import.meta.url).resolve("tsx/cli");
let failed = 0;
for (const bench of chosen) {
  const file = BENCHMARKS[bench];
  if (!file) {
    console.error(`unknown benchmark ${bench}; choose one of: ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n## ${bench}\n`);
  const result = spawnSync(process.execPath, [tsx, path.join(here, file), ...(name === bench ? rest : [])], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
