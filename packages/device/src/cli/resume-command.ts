/**
 * `fleetdrop-device resume`: continues every upload a crash, a reboot or a lost connection
 * interrupted, from the state files the commands leave until an upload is done:
 * `.fleetdrop/transfers/` (`upload --over-mqtt`) and `.fleetdrop/uploads/` (large files sent in
 * parts). `--list` only shows them.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { FleetdropDevice } from "../client";
import { FleetdropError, StorageRejectedError } from "../errors";
import type { TMultipartState } from "../multipart-upload";
import type { TTransferState } from "../mqtt-transfer";
import { RateLimiter } from "../rate-limiter";
import { reportStoredAlready, storedAlready } from "./already-stored";
import { userCwd } from "./config";
import { CONNECTION_OPTIONS, connectWithFlags } from "./connect";
import { formatBytes, progressReporter } from "./progress";
import { parseByteSize, sendOne, TransferUsageError } from "./transfer-commands";

type TFound = { kind: "transfer"; file: string; state: TTransferState } | { kind: "multipart"; file: string; state: TMultipartState };

/** Where the commands remember unfinished uploads, unless --state-dir names one folder. */
function stateDirs(flag: string | undefined): string[] {
  if (flag !== undefined) return [path.resolve(userCwd(), flag)];
  return [path.resolve(userCwd(), ".fleetdrop", "transfers"), path.resolve(userCwd(), ".fleetdrop", "uploads")];
}

async function findStates(dirs: string[]): Promise<TFound[]> {
  const found: TFound[] = [];
  for (const dir of dirs) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith(".json")).sort();
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        const state = JSON.parse(await readFile(file, "utf8")) as Partial<TMultipartState> & Partial<TTransferState>;
        if (state.version === 1 && state.kind === "multipart" && typeof state.uploadId === "string")
          found.push({ kind: "multipart", file, state: state as TMultipartState });
        else if (state.version === 1 && typeof state.fileId === "string")
          found.push({ kind: "transfer", file, state: state as TTransferState });
        else throw new Error("unknown kind");
      } catch {
        console.error(`skipping ${file}: not a state file of an unfinished upload`);
      }
    }
  }
  return found;
}

function summary(found: TFound): string {
  const { state } = found;
  const how = found.kind === "multipart" ? `in parts, upload ${found.state.uploadId}` : `over MQTT, file_id ${found.state.fileId}`;
  return `${state.filename} (${formatBytes(state.size)}) into session ${state.sessionId} as ${state.deviceId}, ${how}: ${state.path}`;
}

export async function resumeCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...CONNECTION_OPTIONS,
      "state-dir": { type: "string" },
      list: { type: "boolean" },
      window: { type: "string" },
      concurrency: { type: "string" },
      "max-rate": { type: "string" },
      json: { type: "boolean" },
    },
  });
  const window = values.window === undefined ? 32 : Number(values.window);
  if (!Number.isInteger(window) || window < 1) throw new TransferUsageError("--window must be a whole number ≥ 1");
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new TransferUsageError("--concurrency must be an integer from 1 to 64");
  const maxRate = values["max-rate"] === undefined ? undefined : parseByteSize(values["max-rate"], 0);
  const dirs = stateDirs(values["state-dir"]);
  const found = await findStates(dirs);
  if (values.list) {
    for (const entry of found) {
      if (values.json) console.log(JSON.stringify({ kind: entry.kind, state_file: entry.file, ...entry.state }));
      else console.log(`${summary(entry)}  [${entry.file}]`);
    }
    if (!values.json) console.error(found.length === 0 ? `nothing to resume in ${dirs.join(" or ")}` : `${found.length} unfinished`);
    return 0;
  }
  if (found.length === 0) {
    console.error(`nothing to resume in ${dirs.join(" or ")}`);
    return 0;
  }
  const { device } = await connectWithFlags(values);
  const limiter = maxRate === undefined ? null : new RateLimiter(maxRate);
  const throttle = limiter ? (bytes: number) => limiter.take(bytes) : undefined;
  let failures = 0;
  try {
    for (const entry of found) {
      const { state } = entry;
      if (state.deviceId !== device.options.deviceId) {
        console.error(`skipping ${state.filename}: it was sent as ${state.deviceId}, this is ${device.options.deviceId}`);
        continue;
      }
      const info = await stat(state.path).catch(() => null);
      const same =
        info !== null &&
        info.size === state.size &&
        (entry.kind === "multipart" ? info.mtimeMs === state.mtimeMs : Math.trunc(info.mtimeMs) === Math.trunc(state.mtimeMs));
      if (!same) {
        console.error(`cannot resume ${state.filename}: ${state.path} is gone or changed since (delete ${entry.file} to forget it)`);
        failures++;
        continue;
      }
      const ok =
        entry.kind === "multipart"
          ? await resumeMultipart(device, entry.file, entry.state, { concurrency, throttle, json: Boolean(values.json) })
          : await sendOne({
              device,
              sessionId: entry.state.sessionId,
              file: entry.state.path,
              filename: entry.state.filename,
              contentType: entry.state.contentType,
              userData: entry.state.userData,
              overwrite: entry.state.overwrite === true,
              fileId: entry.state.fileId,
              segmentSize: entry.state.segmentSize,
              window,
              stateDir: path.dirname(entry.file),
              resuming: true,
              json: Boolean(values.json),
            });
      if (!ok) failures++;
    }
  } finally {
    await device.close();
  }
  return failures === 0 ? 0 : 1;
}

/** Codes after which a multipart upload can never complete: its state file is dropped. */
function isPermanent(error: unknown): boolean {
  if (!(error instanceof FleetdropError) || error instanceof StorageRejectedError) return false;
  if (error.status < 400 || error.status >= 500 || error.status === 429) return false;
  return !["device_disabled", "device_unknown", "incomplete", "timeout"].includes(error.code);
}

async function resumeMultipart(
  device: FleetdropDevice,
  stateFile: string,
  state: TMultipartState,
  options: { concurrency: number; throttle?: (bytes: number) => Promise<void>; json: boolean },
): Promise<boolean> {
  const progress = options.json ? undefined : progressReporter(state.filename);
  try {
    const result = await device.uploadMultipart(state.path, {
      session: state.sessionId,
      filename: state.filename,
      contentType: state.contentType,
      checksum: state.sha256 !== null,
      statePath: stateFile,
      concurrency: options.concurrency,
      throttle: options.throttle,
      onProgress: progress ? (p) => progress.update(p) : undefined,
      onResume: options.json
        ? undefined
        : ({ held, total }) =>
            console.error(`resuming ${state.filename}: storage already holds ${formatBytes(held)} of ${formatBytes(total)}`),
    });
    if (options.json) console.log(JSON.stringify({ file: state.path, ok: true, multipart: true, ...result }));
    else
      console.log(
        `uploaded ${state.filename} in ${result.partCount} parts (${formatBytes(result.size)}) → ` +
          `${result.objectKey}  file_id=${result.fileId}`,
      );
    return true;
  } catch (error) {
    const code = error instanceof FleetdropError ? error.code : "error";
    const message = (error as Error).message;
    // A run that died after the platform joined the file but before it removed its state file:
    // the name is taken by this very file (same size and SHA-256), so the upload is done.
    const stored = await storedAlready(error, state.path, state.size);
    if (stored) {
      await rm(stateFile, { force: true });
      reportStoredAlready({ file: state.path, filename: state.filename, json: options.json, extra: { multipart: true } }, stored);
      return true;
    }
    const permanent = isPermanent(error);
    if (permanent) await rm(stateFile, { force: true });
    if (options.json) console.log(JSON.stringify({ file: state.path, ok: false, code, error: message, permanent }));
    else if (permanent)
      console.error(`dropping ${state.filename}: ${message} [${code}]; this upload can never complete, its state file is removed`);
    else console.error(`failed ${state.filename}: ${message} [${code}] (run 'fleetdrop-device resume' again to continue)`);
    // resume has done all it can with an upload that can never complete.
    return permanent;
  }
}
