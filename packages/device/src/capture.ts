/**
 * What the platform asks on `P/fleet/D/commands` (docs/protocol.md#commands), answered by hooks:
 *
 *   await device.listen({
 *     onCapture: async (command) => ({ data: await camera.jpeg(), filename: `capture-${Date.now()}.jpg` }),
 *   });
 *
 * - `capture` `{request_id, session_id}`: the hook produces the file; it is uploaded into the
 *   session through file_upload/request with the command's request_id, which is how the dashboard
 *   recognises the answer to its request.
 * - `commands` `{service}`: by default the device fetches the service's commands.json, runs the
 *   commands in order in the shell and reports (`onCommands` replaces the runner, or pass
 *   `onCommands: false` to ignore command lists).
 * A command delivered twice (QoS 1) is handled once.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ZDeviceCommandSchema, type TCaptureCommand, type TCommandsNotice, type TStatusReport } from "@fleetdrop/shared/protocol/commands";
import { DEFAULT_TOPIC_PREFIX, createTopics } from "@fleetdrop/shared/topics";
import type { FleetdropDevice, TUploadFileResult } from "./client";
import { handleCommands, type TCommandRunner } from "./commands";

export type TCaptureOutput =
  { data: Uint8Array | string; filename: string; contentType?: string } | { path: string; filename?: string; contentType?: string };

export type TCaptureHandler = (command: TCaptureCommand) => Promise<TCaptureOutput>;

export type TListenOptions = {
  onCapture?: TCaptureHandler;
  /** A runner for each command of a list (default: the shell), or false to ignore command lists. */
  onCommands?: TCommandRunner | false;
  /** After a capture was uploaded. */
  onCaptured?: (command: TCaptureCommand, upload: TUploadFileResult) => void;
  /** After a command list was run and reported. */
  onReported?: (notice: TCommandsNotice, report: TStatusReport) => void;
  /** A command that could not be handled (the default logs to stderr). */
  onError?: (error: Error, command: unknown) => void;
};

export type TListener = { stop(): Promise<void> };

export async function listenForCommands(device: FleetdropDevice, options: TListenOptions): Promise<TListener> {
  const topic = createTopics(device.options.topicPrefix ?? DEFAULT_TOPIC_PREFIX).device(device.options.deviceId).commands;
  const handled = new Set<string>();
  const onError = options.onError ?? ((error: Error) => console.error(`fleetdrop: command failed: ${error.message}`));

  const onMessage = (received: string, payload: Buffer) => {
    if (received !== topic) return;
    let value: unknown;
    try {
      value = JSON.parse(payload.toString("utf8"));
    } catch {
      onError(new Error("a command that is not JSON was ignored"), payload.toString("utf8").slice(0, 200));
      return;
    }
    const parsed = ZDeviceCommandSchema.safeParse(value);
    if (!parsed.success) return; // a command type this device does not know: ignored
    const command = parsed.data;
    if (handled.has(command.request_id)) return;
    handled.add(command.request_id);
    if (handled.size > 1000) handled.delete(handled.values().next().value!);
    void run(command).catch((error: unknown) => onError(error as Error, command));
  };

  const run = async (command: typeof ZDeviceCommandSchema._output) => {
    if (command.type === "capture") {
      if (!options.onCapture) return;
      const output = await options.onCapture(command);
      const upload = await uploadCapture(device, command, output);
      options.onCaptured?.(command, upload);
      return;
    }
    if (options.onCommands === false) return;
    const report = await handleCommands(device, command.service, options.onCommands);
    options.onReported?.(command, report);
  };

  device.client.on("message", onMessage);
  await device.client.subscribeAsync(topic, { qos: 1 });
  return {
    async stop() {
      device.client.off("message", onMessage);
      if (device.client.connected) await device.client.unsubscribeAsync(topic).catch(() => {});
    },
  };
}

async function uploadCapture(device: FleetdropDevice, command: TCaptureCommand, output: TCaptureOutput): Promise<TUploadFileResult> {
  if ("path" in output) {
    return device.uploadFile({
      sessionId: command.session_id,
      path: output.path,
      filename: output.filename,
      contentType: output.contentType,
      requestId: command.request_id,
    });
  }
  const dir = await mkdtemp(path.join(tmpdir(), "fleetdrop-capture-"));
  try {
    const file = path.join(dir, path.basename(output.filename));
    await writeFile(file, output.data);
    return await device.uploadFile({
      sessionId: command.session_id,
      path: file,
      filename: output.filename,
      contentType: output.contentType,
      requestId: command.request_id,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
