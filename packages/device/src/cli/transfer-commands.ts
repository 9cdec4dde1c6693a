/**
 * The command line's MQTT-only verbs: `upload --over-mqtt` (file_transfer, resumable) and `chunks`
 * (`resume`, which continues these transfers and multipart uploads, is resume-command.ts).
 */
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { FleetdropDevice } from "../client";
import type { TChunkAnswer } from "../chunks";
import { FleetdropError } from "../errors";
import { stableFileId, TransferRefusedError } from "../mqtt-transfer";
import { reportStoredAlready, storedAlready } from "./already-stored";
import { userCwd } from "./config";
import { CONNECTION_OPTIONS, connectWithFlags } from "./connect";
import { formatBytes, progressReporter } from "./progress";

export class TransferUsageError extends Error {
  readonly usage = true;
}

export const TRANSFER_HELP = `  fleetdrop-device upload --over-mqtt [options] FILE...
                                                send files over the MQTT connection itself, in
                                                segments, for devices without HTTPS;
                                                resumes where it stopped when run again
  fleetdrop-device resume [--list]              finish every upload a crash, a reboot or a
                                                lost connection interrupted: --over-mqtt
                                                transfers and large files sent in parts
                                                (--list: only show them)
  fleetdrop-device chunks --stream S [FILE...]  forward each FILE (or stdin) as one chunk of
                                                stream S to its configured endpoint
`;

export const TRANSFER_OPTIONS_HELP = `Resume options: --state-dir DIR (where to look; default both .fleetdrop/transfers and
.fleetdrop/uploads), --concurrency N and --max-rate N for large files, --window N, --json.

Over-MQTT options (upload --over-mqtt):
  --segment-size N     bytes per segment, e.g. 65536 or 256k (default 64k; the platform's
                       limit is TRANSFER_MAX_SEGMENT_KB, 1 MiB by default)
  --window N           segments in flight before waiting for the broker (default 32)
  --user-data JSON     JSON kept with the file and shown in the dashboard, e.g. '{"lens":"wide"}'
  --overwrite          replace a file of the same name that is already uploaded (as for forms)
  --file-id ID         transfer id ([A-Za-z0-9_-]{1,64}); default: derived from the device,
                       session, name, size, modification time and --overwrite, so re-running
                       resumes
  --state-dir DIR      where unfinished transfers are remembered (default .fleetdrop/transfers)

Chunk options:
  --stream S           the stream configured for this device's project (e.g. crash)
  --content-type T     MQTT 5 Content Type, forwarded as the HTTP Content-Type
  --no-confirm         do not wait for the worker to say the chunk is stored (MQTT 3.1.1
                       devices never wait)
  --wait S             without confirm: how long to watch for the worker's refusals before
                       saying "sent" (default 3); a refusal exits 1 with its code
`;

const connect = connectWithFlags;

/** `65536`, `64k`, `1m` → bytes. */
export function parseByteSize(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new TransferUsageError(`${JSON.stringify(text)} is not a size: use bytes, or a number with k or m (e.g. 64k)`);
  const value = Number(match[1]) * (match[2] === "" ? 1 : match[2]!.toLowerCase() === "k" ? 1024 : 1024 * 1024);
  if (value < 1) throw new TransferUsageError("the segment size must be at least 1 byte");
  return value;
}

export function stateDirOf(flag: string | undefined): string {
  return path.resolve(userCwd(), flag ?? path.join(".fleetdrop", "transfers"));
}

export type TSendOne = {
  device: FleetdropDevice;
  sessionId: number;
  file: string;
  filename: string;
  contentType?: string;
  userData?: unknown;
  overwrite?: boolean;
  fileId?: string;
  segmentSize: number;
  window: number;
  stateDir: string;
  /** Run by `resume`: a permanent refusal drops the transfer instead of failing. */
  resuming?: boolean;
  json: boolean;
};

export async function sendOne(options: TSendOne): Promise<boolean> {
  const info = await stat(options.file);
  const fileId =
    options.fileId ??
    stableFileId({
      deviceId: options.device.options.deviceId,
      sessionId: options.sessionId,
      filename: options.filename,
      size: info.size,
      mtimeMs: info.mtimeMs,
      overwrite: options.overwrite === true,
    });
  const progress = options.json ? undefined : progressReporter(options.filename);
  const stateFile = path.join(options.stateDir, `${fileId}.json`);
  try {
    const result = await options.device.uploadOverMqtt({
      sessionId: options.sessionId,
      path: options.file,
      filename: options.filename,
      contentType: options.contentType,
      userData: options.userData,
      overwrite: options.overwrite,
      fileId,
      segmentSize: options.segmentSize,
      window: options.window,
      stateFile,
      onProgress: progress ? (p) => progress.update(p) : undefined,
      onResume: options.json
        ? undefined
        : ({ held, total }) =>
            console.error(`resuming ${options.filename}: the platform already holds ${formatBytes(held)} of ${formatBytes(total)}`),
    });
    if (options.json) console.log(JSON.stringify({ file: options.file, ok: true, ...result }));
    else
      console.log(
        `uploaded ${options.filename} over MQTT (${formatBytes(result.size)}, sha256 ${result.sha256.slice(0, 12)}…) → ` +
          `${result.objectKey}  file_id=${result.fileId}`,
      );
    return true;
  } catch (error) {
    // The name is taken by this very file (init or fin answered file_exists): the upload is done.
    const stored = await storedAlready(error, options.file, info.size);
    if (stored) {
      await rm(stateFile, { force: true });
      reportStoredAlready({ file: options.file, filename: options.filename, json: options.json, extra: { file_id: fileId } }, stored);
      return true;
    }
    const code = error instanceof FleetdropError ? error.code : "error";
    // A permanent refusal removed the state file (mqtt-transfer.ts): nothing is left to resume.
    const permanent = error instanceof TransferRefusedError && error.permanent;
    if (options.json)
      console.log(JSON.stringify({ file: options.file, ok: false, code, error: (error as Error).message, file_id: fileId, permanent }));
    else if (permanent && options.resuming)
      console.error(
        `dropping ${options.filename}: ${(error as Error).message} [${code}]; this transfer can never complete, its state file is removed`,
      );
    else if (permanent) console.error(`failed ${options.filename}: ${(error as Error).message} [${code}]`);
    else
      console.error(
        `failed ${options.filename}: ${(error as Error).message} [${code}] ` +
          `(file_id ${fileId}; run the same command, or 'fleetdrop-device resume', to continue)`,
      );
    // resume has done all it can with a transfer that can never complete.
    return permanent && options.resuming === true;
  }
}

export async function uploadOverMqttCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CONNECTION_OPTIONS,
      "over-mqtt": { type: "boolean" },
      session: { type: "string" },
      name: { type: "string" },
      "content-type": { type: "string" },
      "segment-size": { type: "string" },
      window: { type: "string" },
      "user-data": { type: "string" },
      "file-id": { type: "string" },
      overwrite: { type: "boolean" },
      "state-dir": { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (positionals.length === 0)
    throw new TransferUsageError("upload --over-mqtt: which file? e.g. fleetdrop-device upload --over-mqtt --session 1 big.mcap");
  if ((values.name || values["file-id"]) && positionals.length > 1)
    throw new TransferUsageError("--name and --file-id work with one file only");
  const segmentSize = parseByteSize(values["segment-size"], 64 * 1024);
  const window = values.window === undefined ? 32 : Number(values.window);
  if (!Number.isInteger(window) || window < 1) throw new TransferUsageError("--window must be a whole number ≥ 1");
  let userData: unknown;
  if (values["user-data"] !== undefined) {
    try {
      userData = JSON.parse(values["user-data"]);
    } catch {
      throw new TransferUsageError(`--user-data must be JSON, e.g. '{"lens":"wide"}'`);
    }
  }
  if (values["file-id"] !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(values["file-id"]))
    throw new TransferUsageError("--file-id must match [A-Za-z0-9_-]{1,64}");
  const files = positionals.map((file) => path.resolve(userCwd(), file));
  for (const file of files) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new TransferUsageError(`${file}: not a readable file`);
  }
  const { device, config } = await connect(values);
  try {
    const sessionId = Number(values.session ?? config.sessionId);
    if (!Number.isInteger(sessionId) || sessionId < 1) throw new TransferUsageError("--session must be a session id (an integer ≥ 1)");
    let failures = 0;
    for (const file of files) {
      const ok = await sendOne({
        device,
        sessionId,
        file,
        filename: values.name ?? path.basename(file),
        contentType: values["content-type"],
        userData,
        overwrite: values.overwrite,
        fileId: values["file-id"],
        segmentSize,
        window,
        stateDir: stateDirOf(values["state-dir"]),
        json: Boolean(values.json),
      });
      if (!ok) failures++;
    }
    return failures === 0 ? 0 : 1;
  } finally {
    await device.close();
  }
}

export async function chunksCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CONNECTION_OPTIONS,
      stream: { type: "string" },
      "content-type": { type: "string" },
      "no-confirm": { type: "boolean" },
      wait: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (!values.stream) throw new TransferUsageError("chunks: which stream? e.g. fleetdrop-device chunks --stream crash dump.bin");
  const inputs = positionals.length > 0 ? positionals.map((file) => path.resolve(userCwd(), file)) : ["-"];
  const { device } = await connect(values);
  const confirm = !values["no-confirm"] && device.client.options.protocolVersion === 5;
  // Without confirm (MQTT 3.1.1 or --no-confirm) an accepted chunk is not answered but a refusal
  // always is (docs/protocol.md#chunks), on chunks/response and without anything that names the
  // chunk: so every refusal of this stream counts against this run, and the command waits a
  // while for them before it says what was sent.
  const refusals: TChunkAnswer[] = [];
  const published: { input: string; bytes: number }[] = [];
  let refusedAll: () => void = () => {};
  const allRefused = new Promise<void>((resolve) => (refusedAll = resolve));
  const stopListening = confirm
    ? () => {}
    : device.onChunkRefused((answer) => {
        if (answer.stream !== values.stream) return;
        refusals.push(answer);
        if (refusals.length >= published.length) refusedAll();
      });
  let failures = 0;
  try {
    for (const input of inputs) {
      const bytes = input === "-" ? await readStdin() : await readFile(input);
      try {
        const answer = await device.sendChunk(values.stream, bytes, { confirm, contentType: values["content-type"] });
        if (!confirm) {
          published.push({ input, bytes: bytes.length });
          continue;
        }
        const id = answer?.chunk_id;
        if (values.json) console.log(JSON.stringify({ input, ok: true, bytes: bytes.length, ...(id ? { chunk_id: id } : {}) }));
        else
          console.log(
            `stored ${input === "-" ? "stdin" : path.basename(input)} (${formatBytes(bytes.length)}) ` +
              `on ${values.stream}${id ? `  chunk_id=${id}` : ""}`,
          );
      } catch (error) {
        failures++;
        const code = error instanceof FleetdropError ? error.code : "error";
        if (values.json) console.log(JSON.stringify({ input, ok: false, code, error: (error as Error).message }));
        else console.error(`failed ${input}: ${(error as Error).message} [${code}]`);
      }
    }
    if (published.length > 0) {
      const waitMs = values.wait === undefined ? CHUNK_REFUSAL_WAIT_MS : Number(values.wait) * 1000;
      if (!Number.isFinite(waitMs) || waitMs < 0) throw new TransferUsageError("--wait is a number of seconds, e.g. --wait 5");
      if (refusals.length < published.length)
        await Promise.race([allRefused, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
      if (refusals.length > 0) {
        failures += refusals.length;
        for (const answer of refusals) {
          const code = String(answer.code ?? "unknown");
          const message = String(answer.error ?? "chunk refused");
          if (values.json) console.log(JSON.stringify({ stream: values.stream, ok: false, status: answer.status, code, error: message }));
        }
        if (!values.json) {
          const first = refusals[0]!;
          console.error(
            `refused: ${refusals.length} of ${published.length} chunk(s) on ${values.stream}: ` +
              `${String(first.error ?? "chunk refused")} [${String(first.code ?? "unknown")}]`,
          );
        }
      } else
        for (const { input, bytes } of published) {
          if (values.json) console.log(JSON.stringify({ input, ok: true, bytes }));
          else console.log(`sent ${input === "-" ? "stdin" : path.basename(input)} (${formatBytes(bytes)}) on ${values.stream}`);
        }
    }
  } finally {
    stopListening();
    await device.close();
  }
  return failures === 0 ? 0 : 1;
}

/** How long a chunk sent without confirm may still be refused; --wait overrides it. */
const CHUNK_REFUSAL_WAIT_MS = 3000;

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
