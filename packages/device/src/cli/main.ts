/**
 * fleetdrop-device: the device side of the Fleetdrop protocol from a shell.
 * Run `fleetdrop-device help` (or `pnpm device help` in the repository).
 */
import { createHash } from "node:crypto";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { FleetdropError } from "../errors";
import { RateLimiter } from "../rate-limiter";
import { reportStoredAlready, storedAlready } from "./already-stored";
import { userCwd } from "./config";
import { CONNECTION_OPTIONS, connectWithFlags } from "./connect";
import { formatBytes, progressReporter } from "./progress";
import { TRANSFER_HELP, TRANSFER_OPTIONS_HELP, chunksCommand, parseByteSize, uploadOverMqttCommand } from "./transfer-commands";
import { resumeCommand } from "./resume-command";
import { commandsCommand, downloadCommand, listenCommand, STORE_HELP } from "./store-commands";
import { AGENT_HELP, agentCommand } from "./agent-command";

const HELP = `fleetdrop-device — send files from a device to Fleetdrop

Usage:
  fleetdrop-device upload [options] FILE...     upload files into a session over HTTPS
${TRANSFER_HELP}  fleetdrop-device session open [--name NAME]   open a session for this device; prints its id
  fleetdrop-device session close --session ID   close a session
${STORE_HELP}${AGENT_HELP}  fleetdrop-device help

Connection (flags, else environment, else the config file):
  --url URL            broker, e.g. mqtt://localhost:1883, mqtts://broker:8883   [FLEETDROP_URL]
  --device ID          this device's id (its serial)                              [FLEETDROP_DEVICE]
  --password PW        MQTT password of a password device                        [FLEETDROP_PASSWORD]
  --ca/--cert/--key F  TLS files of a certificate device
  --prefix P           topic prefix (default fleetdrop)                           [FLEETDROP_TOPIC_PREFIX]
  --mqtt-version 4|5   MQTT 3.1.1 or 5 (default: 5, or 3.1.1 when the broker refuses 5)
  --timeout S          seconds to wait for each answer (default 15)
  --rate-limit-retries N  times to wait out a '429 rate_limited' answer (its retry_after, at
                       most 60 s) and send again before failing with code rate_limited (default 3)
  --config FILE        JSON with url, deviceId, password, topicPrefix, ca, cert, key, sessionId
                       (default: .fleetdrop/device.json in this or a parent folder, which
                       'npm start' writes for the demo device)

Upload options:
  --session ID         the session to upload into (or sessionId in the config file)
  --name NAME          name in the session, may contain folders (logs/system.log); one file only
  --content-type T     media type (default: guessed from the extension)
  --overwrite          replace a file of the same name that is already uploaded
  --json               print one JSON line per file instead of text
  --max-rate N         cap on bytes per second for the whole command, e.g. 2m: every file,
                       whether sent in one POST or in parts (default: no cap)

Large files (upload): a file over --multipart-above goes in parts, several at once, each PUT to
its own presigned URL; interrupted (a crash, a reboot), the same command sends only the parts
storage does not hold yet.
  --multipart-above N  size from which a file goes in parts (default 100m, the platform's
                       default single-upload limit); --multipart: every file in parts
  --part-size N        bytes per part, whole MiB from 5m to 5120m (default: the platform's, 64m
                       or more for files over 625 GiB)
  --concurrency N      parts in flight at once (default 4)
  --no-checksum        do not send the file's SHA-256 for the platform to check (saves a read)
  --state-dir DIR      where unfinished uploads are remembered (default .fleetdrop/uploads)

${TRANSFER_OPTIONS_HELP}
Exit status: 0 all uploaded, 1 a failure (its code is printed, e.g. session_closed), 2 usage. A file
the platform already holds under its name with the same size and SHA-256 counts as uploaded
("already stored"); another file of that name fails with file_exists.

Examples:
  fleetdrop-device upload --session 1 photo.jpg
  fleetdrop-device upload --url mqtt://10.0.0.5:1883 --device ROBOT-7 --password s3cret \\
      --session 42 --name logs/system.log /var/log/syslog
  SESSION=$(fleetdrop-device session open --name "mission 12") && \\
      fleetdrop-device upload --session "$SESSION" *.jpg && fleetdrop-device session close --session "$SESSION"
  fleetdrop-device upload --over-mqtt --session 1 --segment-size 256k --user-data '{"run":12}' run12.mcap
  fleetdrop-device resume                      # after a reboot: finish what was interrupted
  fleetdrop-device chunks --stream crash /var/crash/core.0001
`;

class UsageError extends Error {}

const connect = connectWithFlags;

async function upload(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CONNECTION_OPTIONS,
      session: { type: "string" },
      name: { type: "string" },
      "content-type": { type: "string" },
      overwrite: { type: "boolean" },
      json: { type: "boolean" },
      multipart: { type: "boolean" },
      "multipart-above": { type: "string" },
      "part-size": { type: "string" },
      concurrency: { type: "string" },
      "max-rate": { type: "string" },
      "no-checksum": { type: "boolean" },
      "state-dir": { type: "string" },
    },
  });
  const multipartAbove = values.multipart ? 0 : parseByteSize(values["multipart-above"], 100 * 1024 * 1024);
  const partSize = values["part-size"] === undefined ? undefined : parseByteSize(values["part-size"], 0);
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new UsageError("--concurrency must be an integer from 1 to 64");
  const maxRate = values["max-rate"] === undefined ? undefined : parseByteSize(values["max-rate"], 0);
  // One cap for everything the command sends: form POSTs and the parts of large files alike.
  const limiter = maxRate === undefined ? null : new RateLimiter(maxRate);
  const throttle = limiter ? (bytes: number) => limiter.take(bytes) : undefined;
  const stateDir = path.resolve(userCwd(), values["state-dir"] ?? path.join(".fleetdrop", "uploads"));
  if (positionals.length === 0) throw new UsageError("upload: which file? e.g. fleetdrop-device upload --session 1 photo.jpg");
  if (values.name && positionals.length > 1) throw new UsageError("--name works with one file only");
  const files = positionals.map((file) => path.resolve(userCwd(), file));
  for (const file of files) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new UsageError(`${file}: not a readable file`);
  }
  const { device, config } = await connect(values);
  const sessionId = Number(values.session ?? config.sessionId);
  if (!Number.isInteger(sessionId) || sessionId < 1) {
    await device.close();
    throw new UsageError("--session must be a session id (an integer ≥ 1)");
  }
  let failures = 0;
  try {
    for (const file of files) {
      const filename = values.name ?? path.basename(file);
      const progress = values.json ? undefined : progressReporter(filename);
      let size = 0;
      let statePath: string | null = null;
      try {
        const info = await stat(file);
        size = info.size;
        if (size > multipartAbove && size > 0) {
          // One state file per device, session, name, size and mtime: running the command again resumes.
          const stateName = createHash("sha256")
            .update(JSON.stringify([device.options.deviceId, sessionId, filename, file, size, info.mtimeMs]))
            .digest("hex")
            .slice(0, 32);
          statePath = path.join(stateDir, `${stateName}.json`);
          const result = await device.uploadMultipart(file, {
            session: sessionId,
            filename,
            contentType: values["content-type"],
            overwrite: values.overwrite,
            partSize,
            concurrency,
            throttle,
            checksum: !values["no-checksum"],
            statePath,
            onProgress: progress ? (p) => progress.update(p) : undefined,
            onResume: values.json
              ? undefined
              : ({ held, total }) =>
                  console.error(`resuming ${filename}: storage already holds ${formatBytes(held)} of ${formatBytes(total)}`),
          });
          if (values.json) console.log(JSON.stringify({ file, ok: true, multipart: true, ...result }));
          else
            console.log(
              `uploaded ${filename} in ${result.partCount} parts (${formatBytes(result.size)}) → ` +
                `${result.objectKey}  file_id=${result.fileId}`,
            );
          continue;
        }
        const result = await device.uploadFile({
          sessionId,
          path: file,
          filename,
          contentType: values["content-type"],
          overwrite: values.overwrite,
          onProgress: progress ? (p) => progress.update(p) : undefined,
          throttle,
        });
        if (values.json) console.log(JSON.stringify({ file, ok: true, ...result }));
        else console.log(`uploaded ${filename} (${formatBytes(result.size)}) → ${result.objectKey}  file_id=${result.fileId}`);
      } catch (error) {
        // The name is taken: the upload can never complete, and a state file of it (one a run left
        // that died after the platform stored the file) would only fail the same way again.
        if (statePath && error instanceof FleetdropError && error.code === "file_exists") await rm(statePath, { force: true });
        // Taken by this very file (an earlier run stored it): the upload is done.
        const stored = await storedAlready(error, file, size);
        if (stored) {
          const extra = statePath ? { multipart: true } : {};
          reportStoredAlready({ file, filename, json: Boolean(values.json), extra }, stored);
          continue;
        }
        failures++;
        const code = error instanceof FleetdropError ? error.code : "error";
        if (values.json) console.log(JSON.stringify({ file, ok: false, code, error: (error as Error).message }));
        else console.error(`failed ${filename}: ${(error as Error).message} [${code}]`);
      }
    }
  } finally {
    await device.close();
  }
  return failures === 0 ? 0 : 1;
}

async function session(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { ...CONNECTION_OPTIONS, session: { type: "string" }, name: { type: "string" } } });
  if (action !== "open" && action !== "close") throw new UsageError("session open | session close --session ID");
  const { device } = await connect(values);
  try {
    if (action === "open") {
      const opened = await device.openSession({ name: values.name });
      console.log(opened.session_id);
    } else {
      const id = Number(values.session);
      if (!Number.isInteger(id) || id < 1) throw new UsageError("--session must be a session id");
      const closed = await device.closeSession(id);
      console.error(`session ${closed.session_id} is ${closed.state}`);
    }
  } finally {
    await device.close();
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "upload":
      return rest.includes("--over-mqtt") ? uploadOverMqttCommand(rest) : upload(rest);
    case "resume":
      return resumeCommand(rest);
    case "chunks":
      return chunksCommand(rest);
    case "session":
      return session(rest);
    case "download":
      return downloadCommand(rest);
    case "commands":
      return commandsCommand(rest);
    case "listen":
      return listenCommand(rest);
    case "agent":
      return agentCommand(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; see fleetdrop-device help`);
  }
}

main(process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === "--"))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error as { usage?: boolean }).usage === true ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      console.error(`${(error as Error).message}\n(fleetdrop-device help shows every option)`);
      process.exit(2);
    }
    const code = error instanceof FleetdropError ? ` [${error.code}]` : "";
    console.error(`${(error as Error).message}${code}`);
    process.exit(1);
  },
);
