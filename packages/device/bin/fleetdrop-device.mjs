#!/usr/bin/env node
// Runs the TypeScript command line through tsx (workspace packages ship as TypeScript source).
// SIGTERM and SIGINT are passed on, so `agent` stops cleanly when this process is told to stop
// (systemd, `docker stop`, Ctrl-C), and the exit status is the command's.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const tsx = require.resolve("tsx/cli");
const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const child = spawn(process.execPath, [tsx, main, ...process.argv.slice(2)], { stdio: "inherit" });
// SIGINT from a terminal reaches the whole process group already.
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
process.on("SIGINT", () => {});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + (signal === "SIGTERM" ? 15 : signal === "SIGINT" ? 2 : 1) : 1)));
