/** `fleetdrop-device agent --config FILE`: runs the upload agent until SIGTERM or SIGINT. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { FleetdropDevice } from "../client";
import { UploadAgent } from "../agent/agent";
import { loadAgentConfig } from "../agent/config";
import { createAgentLog } from "../agent/log";
import { userCwd, resolveConnection } from "./config";
import { CONNECTION_OPTIONS } from "./connect";

export const AGENT_HELP = `  fleetdrop-device agent --config FILE          watch folders and upload what appears (docs/devices.md)
`;

export async function agentCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: CONNECTION_OPTIONS });
  if (!values.config)
    throw Object.assign(new Error("agent: which config? fleetdrop-device agent --config /etc/fleetdrop/agent.yaml"), { usage: true });
  const config = await loadAgentConfig(path.resolve(userCwd(), values.config));
  const { passwordFile, timeoutSeconds, ...file } = config.connection;
  const password = passwordFile ? (await readFile(passwordFile, "utf8")).trim() : file.password;
  const connection = resolveConnection({ ...values, config: undefined } as typeof values, { ...file, password });
  if (timeoutSeconds !== undefined) connection.timeoutMs = timeoutSeconds * 1000;
  config.connection.deviceId = connection.deviceId;
  config.connection.url = connection.url;
  const log = createAgentLog();
  const agent = new UploadAgent({ config, log, connect: () => FleetdropDevice.connect(connection) });
  let stopping: Promise<void> | null = null;
  let firstSignalAt = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      // One Ctrl-C reaches this process more than once (the terminal's process group, and the
      // wrappers that pass it on): only a signal given later means "now".
      if (stopping && Date.now() - firstSignalAt < 2000) return;
      if (stopping) {
        log.info(`${signal} again: exiting at once`);
        resolve(1);
        return;
      }
      firstSignalAt = Date.now();
      log.info(`${signal}: stopping`);
      stopping = agent.stop().then(() => resolve(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  await agent.start();
  return stopped;
}
