/** The device command line (packages/device/bin/fleetdrop-device.mjs) run as a device runs it. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const DEVICE_CLI = fileURLToPath(new URL("../../../../packages/device/bin/fleetdrop-device.mjs", import.meta.url));

export type TCliResult = { code: number; stdout: string; stderr: string };

/**
 * Runs `fleetdrop-device args…` in `cwd` (relative paths resolve there, as from a shell) to its
 * end; `stdin` is what it reads (nothing by default), `env` adds to the environment.
 */
export function runDeviceCli(args: string[], options: { cwd: string; stdin?: string; env?: NodeJS.ProcessEnv }): Promise<TCliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEVICE_CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, INIT_CWD: options.cwd, ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(options.stdin ?? "");
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
