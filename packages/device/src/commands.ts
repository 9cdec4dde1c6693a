/**
 * Command lists (docs/protocol.md#command-lists) on the device: fetch `incoming/{D}/{service}/commands.json`, run the
 * commands in order, and upload `status/{D}/{service}/last_monitoring_status.json`
 * (`{general_status, general_error, commands: [{command, result, status}]}`).
 */
import { exec } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  COMMANDS_STORE,
  commandsFilePath,
  STATUS_STORE,
  statusFilePath,
  ZCommandListSchema,
  type TCommandList,
  type TStatusReport,
} from "@fleetdrop/shared/protocol/commands";
import type { FleetdropDevice } from "./client";
import { downloadFile, uploadToStore } from "./download";
import { FleetdropError } from "./errors";

/** Runs one command; the default runs it in the shell with a time limit. */
export type TCommandRunner = (command: string) => Promise<{ result: string; status: "success" | "error" }>;

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
const MAX_RESULT_CHARS = 8_000;

export function shellRunner(timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): TCommandRunner {
  return (command) =>
    new Promise((resolve) => {
      exec(command, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
        const output = `${stdout}${stderr ? (stdout ? "\n" : "") + stderr : ""}`.trim();
        const result =
          output.length > MAX_RESULT_CHARS
            ? `${output.slice(0, MAX_RESULT_CHARS)}… (${output.length - MAX_RESULT_CHARS} more characters)`
            : output;
        if (error) {
          const why = error.killed ? `timed out after ${timeoutMs / 1000} s` : `exit code ${error.code ?? "?"}`;
          resolve({ result: result ? `${result}\n(${why})` : why, status: "error" });
        } else resolve({ result, status: "success" });
      });
    });
}

/** Downloads and validates a service's command list. */
export async function fetchCommands(device: FleetdropDevice, service: string): Promise<TCommandList> {
  const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-commands-"));
  try {
    const file = path.join(dir, "commands.json");
    await downloadFile(device, { store: COMMANDS_STORE, path: commandsFilePath(service), to: file });
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, "utf8"));
    } catch {
      throw new FleetdropError(`${service}/commands.json is not valid JSON`, "invalid_commands", 0);
    }
    const parsed = ZCommandListSchema.safeParse(value);
    if (!parsed.success)
      throw new FleetdropError(
        `${service}/commands.json: ${parsed.error.issues[0]?.message ?? "not a command list"}`,
        "invalid_commands",
        0,
      );
    return parsed.data;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs commands one after the other (a failure does not stop the rest) and builds the report. */
export async function runCommands(commands: TCommandList, runner: TCommandRunner = shellRunner()): Promise<TStatusReport> {
  const results: TStatusReport["commands"] = [];
  for (const { command } of commands) {
    try {
      results.push({ command, ...(await runner(command)) });
    } catch (error) {
      results.push({ command, result: (error as Error).message, status: "error" });
    }
  }
  const failed = results.filter((entry) => entry.status !== "success").length;
  return {
    general_status: failed === 0 ? "success" : "error",
    general_error: failed === 0 ? null : `${failed} of ${results.length} commands failed`,
    commands: results,
  };
}

/** Uploads a report as `status/{D}/{service}/last_monitoring_status.json`. */
export async function reportCommands(device: FleetdropDevice, service: string, report: TStatusReport): Promise<{ objectKey: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-report-"));
  try {
    const file = path.join(dir, "last_monitoring_status.json");
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    const stored = await uploadToStore(device, {
      store: STATUS_STORE,
      path: file,
      filename: statusFilePath(service),
      contentType: "application/json",
    });
    return { objectKey: stored.objectKey };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The whole round: fetch, run in order, report. */
export async function handleCommands(device: FleetdropDevice, service: string, runner?: TCommandRunner): Promise<TStatusReport> {
  const commands = await fetchCommands(device, service);
  const report = await runCommands(commands, runner);
  await reportCommands(device, service, report);
  return report;
}
