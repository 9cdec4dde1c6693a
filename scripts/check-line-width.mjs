#!/usr/bin/env node
/**
 * Fails when a line of code is wider than Prettier's printWidth (.prettierrc.json). Prettier
 * wraps code but not long strings, template literals, comments or test titles, so those can
 * stay too wide after `pnpm format`: wrap them by hand. Run by `pnpm lint`.
 *
 * Files: those git tracks or would track (not ignored), with a JavaScript or TypeScript
 * extension, that Prettier formats (not in .prettierignore). Width as Prettier counts it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CODE = /\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

const { printWidth } = JSON.parse(readFileSync(path.join(ROOT, ".prettierrc.json"), "utf8"));
if (!Number.isInteger(printWidth)) throw new Error(".prettierrc.json has no printWidth");

const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
  cwd: ROOT,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
const files = listed.split("\0").filter((file) => CODE.test(file) && existsSync(path.join(ROOT, file)));

const ignorePath = path.join(ROOT, ".prettierignore");
const offending = new Map();
for (const file of files) {
  const absolute = path.join(ROOT, file);
  if ((await prettier.getFileInfo(absolute, { ignorePath })).ignored) continue;
  const lines = readFileSync(absolute, "utf8").split("\n");
  lines.forEach((line, index) => {
    const width = prettier.util.getStringWidth(line);
    if (width <= printWidth) return;
    if (!offending.has(file)) offending.set(file, []);
    offending.get(file).push(`${index + 1} (${width})`);
  });
}

if (offending.size > 0) {
  const count = [...offending.values()].reduce((sum, lines) => sum + lines.length, 0);
  console.error(`${count} line(s) in ${offending.size} file(s) are wider than ${printWidth} characters (Prettier's printWidth):`);
  for (const [file, lines] of offending) console.error(`  ${file}: line ${lines.join(", ")}`);
  console.error("Wrap them by hand: Prettier does not break long strings, template literals or comments.");
  process.exit(1);
}
console.log(`No line of code is wider than ${printWidth} characters.`);
