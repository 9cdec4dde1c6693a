/**
 * Benchmark: a multipart upload killed at 50 % and resumed. A device process (this file with
 * --device) uploads a file with the SDK's uploadMultipart and a state file, printing each part as
 * it starts and as storage holds it; once half the parts are held the whole process group is
 * killed with SIGKILL (a power cut), and a second device process runs the same upload. Counts
 * the parts sent again: those the first process had started and storage did not hold.
 *
 *   npm run bench -- multipart-resume [--size-mib 1024] [--runs 3] [--part-mib 16] [--concurrency 4]
 *
 * Target: the parts sent again are at most those in flight at the kill (≤ --concurrency), and
 * no part storage held is sent again.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FleetdropDevice } from "@fleetdrop/device/client";
import { machineDescription } from "./machine";
import { generateFile } from "./generate-file";
import { diskDescription, median, startPlatform } from "./multipart-common";

const MIB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "1024" },
    runs: { type: "string", default: "3" },
    "part-mib": { type: "string", default: "16" },
    concurrency: { type: "string", default: "4" },
    dir: { type: "string" },
    // The device process: --device URL,DEVICE,SESSION,FILE,NAME,STATE
    device: { type: "string" },
  },
});
const partSize = Number(values["part-mib"]) * MIB;
const concurrency = Number(values.concurrency);

/** The device side, in its own process: prints `start N`, `stored N`, then the result as JSON. */
async function deviceProcess(spec: string): Promise<void> {
  const [url, deviceId, session, file, filename, statePath] = spec.split(",") as [string, string, string, string, string, string];
  const device = await FleetdropDevice.connect({ url, deviceId, timeoutMs: 60_000 });
  const result = await device.uploadMultipart(file, {
    session: Number(session),
    filename,
    partSize,
    concurrency,
    checksum: false,
    statePath,
    onPart: ({ partNumber, phase }) => process.stdout.write(`${phase} ${partNumber}\n`),
  });
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
  await device.close();
}

type TRun = { parts: number; heldAtKill: number; startedNotHeld: number; sentAgain: number; sentByResume: number; heldSentAgain: number };

async function main(): Promise<number> {
  if (values.device) {
    await deviceProcess(values.device);
    return 0;
  }
  const sizeMiB = Number(values["size-mib"]);
  const work = await mkdtemp(path.join(values.dir ?? os.tmpdir(), "fd-bench-resume-"));
  console.log(`machine: ${machineDescription()}`);
  console.log(`disk: ${diskDescription(work)}`);
  console.log(
    `file: ${sizeMiB} MiB, parts of ${partSize / MIB} MiB, ${concurrency} in parallel; ` +
      `killed (SIGKILL) once half the parts are held; ${values.runs} runs\n`,
  );
  const platform = await startPlatform("bench-resume", work);
  const source = path.join(work, "source.bin");
  const rows: TRun[] = [];
  let failed = false;
  try {
    await generateFile(source, sizeMiB);
    for (let run = 1; run <= Number(values.runs); run++) {
      const statePath = path.join(work, `state-${run}.json`);
      const spec = [platform.broker.url, platform.deviceId, platform.sessionId, source, `resume-${run}.bin`, statePath].join(",");
      const launch = () =>
        spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--device", spec, ...forwarded()], {
          stdio: ["ignore", "pipe", "inherit"],
          detached: true,
        });
      // First process: killed once half the parts are held.
      const parts = Math.ceil((sizeMiB * MIB) / partSize);
      const started = new Set<number>();
      const stored = new Set<number>();
      const first = launch();
      const exited = new Promise((resolve) => first.once("exit", resolve));
      await new Promise<void>((resolve) => {
        createInterface({ input: first.stdout }).on("line", (line) => {
          const [phase, n] = line.split(" ");
          if (phase === "start") started.add(Number(n));
          if (phase === "stored") stored.add(Number(n));
          if (stored.size >= parts / 2) resolve();
        });
        first.once("exit", () => resolve());
      });
      process.kill(-first.pid!, "SIGKILL");
      await exited;

      // Second process: the same upload, from the state file.
      const second = launch();
      const resent = new Set<number>();
      let result: { partsSent: number; partsHeld: number; partCount: number } | null = null;
      createInterface({ input: second.stdout }).on("line", (line) => {
        if (line.startsWith("start ")) resent.add(Number(line.slice(6)));
        if (line.startsWith("result ")) result = JSON.parse(line.slice(7)) as typeof result;
      });
      const code = await new Promise<number>((resolve) => second.once("exit", (exitCode) => resolve(exitCode ?? 1)));
      if (code !== 0 || !result) throw new Error(`the resumed upload failed (exit ${code})`);
      const done = result as { partsSent: number; partsHeld: number; partCount: number };
      const row: TRun = {
        parts,
        heldAtKill: done.partsHeld,
        startedNotHeld: [...started].filter((n) => !stored.has(n)).length,
        sentAgain: [...resent].filter((n) => started.has(n)).length,
        sentByResume: done.partsSent,
        heldSentAgain: [...resent].filter((n) => stored.has(n)).length,
      };
      rows.push(row);
      console.log(
        `run ${run}: ${row.parts} parts; held at the kill ${row.heldAtKill} ` +
          `(the killed process saw ${stored.size} stored, ${row.startedNotHeld} in flight); ` +
          `the resumed process sent ${row.sentByResume}, ` +
          `of which ${row.sentAgain} had been started before the kill and ${row.heldSentAgain} were already held`,
      );
      if (row.heldSentAgain > 0 || row.sentAgain > Math.min(concurrency, row.startedNotHeld)) failed = true;
      await rm(path.join(platform.storeDir, "fleetdrop", "objects"), { recursive: true, force: true });
    }
    console.log(
      `\nmedian: parts sent again ${median(rows.map((row) => row.sentAgain))} ` +
        `(in flight at the kill ${median(rows.map((row) => row.startedNotHeld))}, at most ${concurrency}); ` +
        `held parts sent again: ${Math.max(...rows.map((row) => row.heldSentAgain))}`,
    );
  } finally {
    await platform.stop();
    await rm(work, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

function forwarded(): string[] {
  return ["--part-mib", String(values["part-mib"]), "--concurrency", String(concurrency)];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
