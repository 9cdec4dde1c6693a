/**
 * The command line's store and command verbs: `download`, `commands fetch`, `commands report`, `commands
 * run` and `listen` (answer captures and command lists until stopped).
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { ZStatusReportSchema } from "@fleetdrop/shared/protocol/commands";
import { runCommands, shellRunner } from "../commands";
import { userCwd, type TConnectionFlags } from "./config";
import { CONNECTION_OPTIONS, connectWithFlags } from "./connect";
import { formatBytes } from "./progress";

export class CliUsageError extends Error {
  readonly usage = true;
}

export const STORE_HELP = `  fleetdrop-device download --store S PATH [-o FILE]
                                                download PATH of a named store
  fleetdrop-device commands fetch --service S   print a service's command list (incoming store)
  fleetdrop-device commands run --service S     fetch, run in order in the shell, report
  fleetdrop-device commands report --service S FILE
                                                upload FILE as the service's status report
  fleetdrop-device listen [--capture-file F]    answer the dashboard: captures (upload F, or a
                                                generated PNG) and command lists, until Ctrl-C
`;

async function connect(values: TConnectionFlags & { config?: string }, listening = false) {
  // A listener gets its own client id and announces presence (captures need to know it is there).
  const { device } = await connectWithFlags(
    values,
    listening ? (connection) => ({ ...connection, clientId: `${connection.deviceId}/listen`, announcePresence: true }) : undefined,
  );
  return device;
}

export async function downloadCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, store: { type: "string" }, output: { type: "string", short: "o" }, json: { type: "boolean" } },
  });
  if (!values.store) throw new CliUsageError("download: which store? e.g. fleetdrop-device download --store config robot.yaml");
  if (positionals.length !== 1) throw new CliUsageError("download: give exactly one path in the store");
  const storePath = positionals[0]!;
  const to = path.resolve(userCwd(), values.output ?? path.basename(storePath));
  const device = await connect(values);
  try {
    const result = await device.download({ store: values.store, path: storePath, to });
    if (values.json) console.log(JSON.stringify({ ok: true, store: values.store, ...result }));
    else console.log(`downloaded ${values.store}/${storePath} (${formatBytes(result.size)}, ETag ${result.etag}) → ${result.path}`);
  } finally {
    await device.close();
  }
  return 0;
}

export async function commandsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, service: { type: "string" } },
  });
  if (action !== "fetch" && action !== "run" && action !== "report")
    throw new CliUsageError("commands fetch | run | report --service NAME [FILE]");
  if (!values.service) throw new CliUsageError(`commands ${action}: which service? --service NAME`);
  let report: unknown;
  if (action === "report") {
    if (positionals.length !== 1) throw new CliUsageError("commands report: give the report file (JSON)");
    const file = path.resolve(userCwd(), positionals[0]!);
    if (!(await stat(file).catch(() => null))?.isFile()) throw new CliUsageError(`${file}: not a readable file`);
    try {
      report = JSON.parse(await readFile(file, "utf8"));
    } catch {
      throw new CliUsageError(`${file} is not valid JSON`);
    }
    const parsed = ZStatusReportSchema.safeParse(report);
    if (!parsed.success)
      throw new CliUsageError(
        `${file} is not a status report ({general_status, general_error, commands: [{command, result, status}]}): ` +
          `${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`,
      );
    report = parsed.data;
  }
  const device = await connect(values);
  try {
    if (action === "fetch") {
      console.log(JSON.stringify(await device.fetchCommands(values.service), null, 2));
    } else if (action === "run") {
      const commands = await device.fetchCommands(values.service);
      const result = await runCommands(commands, shellRunner());
      const stored = await device.reportCommands(values.service, result);
      for (const entry of result.commands) console.log(`${entry.status === "success" ? "✓" : "✗"} ${entry.command}`);
      console.log(`${result.general_status}: report stored at ${stored.objectKey}`);
      return result.general_status === "success" ? 0 : 1;
    } else {
      const stored = await device.reportCommands(values.service, report as never);
      console.log(`report stored at ${stored.objectKey}`);
    }
  } finally {
    await device.close();
  }
  return 0;
}

export async function listenCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...CONNECTION_OPTIONS, "capture-file": { type: "string" } } });
  const captureFile = values["capture-file"] ? path.resolve(userCwd(), values["capture-file"]) : undefined;
  if (captureFile && !(await stat(captureFile).catch(() => null))?.isFile()) throw new CliUsageError(`${captureFile}: not a readable file`);
  const device = await connect(values, true);
  const { generatedCapture } = await import("../demo-image");
  await device.listen({
    onCapture: async (command) =>
      captureFile
        ? { path: captureFile, filename: `capture-${Date.now()}${path.extname(captureFile)}` }
        : generatedCapture(command.request_id),
    onCaptured: (command, upload) => console.log(`capture ${command.request_id} → ${upload.objectKey}`),
    onReported: (notice, report) => console.log(`commands of ${notice.service}: ${report.general_status}`),
    onError: (error) => console.error(`command failed: ${error.message}`),
  });
  console.error(`listening as ${device.options.deviceId}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await device.close();
  return 0;
}
