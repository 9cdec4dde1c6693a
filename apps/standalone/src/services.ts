/**
 * Child processes of the embedded platform (the ingest worker, the web app): their output
 * prefixed with their name (pino JSON lines shown as short text), restarted with back-off if
 * they crash, stopped with SIGTERM (SIGKILL after a grace period).
 *
 * A service that exits with code 0 stopped because it was asked to (a Ctrl-C reaches every
 * process of the terminal's group, not only ours) and is not restarted; nor is anything once
 * the platform is shutting down (`stopRestarting`), or a restart could outlive the shutdown.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export type TServiceOptions = {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Lines that match are not shown (noise). */
  quiet?: RegExp;
  print: (line: string) => void;
};

export type TService = { stop(): Promise<void>; readonly running: boolean };

let shuttingDown = false;

/** From now on no service is restarted (call it first thing when the platform stops). */
export function stopRestarting(): void {
  shuttingDown = true;
}

const LEVEL_NAMES: Record<string, string> = { "10": "trace", "20": "debug", "30": "info", "40": "warn", "50": "error", "60": "fatal" };
const SKIP_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "name", "service", "v"]);

/** A log field as text: strings as they are, other scalars through String, objects (and null) as JSON. */
function fieldText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? "undefined";
}

function formatLogLine(line: string): string {
  if (!line.startsWith("{")) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = LEVEL_NAMES[String(entry.level)] ?? (entry.level === undefined || entry.level === null ? "info" : fieldText(entry.level));
    const extras = Object.entries(entry)
      .filter(([key]) => !SKIP_FIELDS.has(key))
      .map(([key, value]) => `${key}=${fieldText(value)}`)
      .join(" ");
    const message = entry.msg === undefined || entry.msg === null ? "" : fieldText(entry.msg);
    return `${level === "info" ? "" : `${level.toUpperCase()} `}${message}${extras ? `  ${extras}` : ""}`;
  } catch {
    return line;
  }
}

export function startService(options: TServiceOptions): TService {
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  let startedAt = 0;

  const launch = () => {
    startedAt = Date.now();
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        if (options.quiet?.test(line)) return;
        options.print(`[${options.name}] ${formatLogLine(line)}`);
      });
    }
    child.once("exit", (code, signal) => {
      child = null;
      if (stopping || shuttingDown) return;
      if (code === 0) {
        options.print(`[${options.name}] exited`);
        return;
      }
      if (Date.now() - startedAt > 60_000) restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** restarts++);
      options.print(`[${options.name}] exited (${signal ?? `code ${code}`}); restarting in ${Math.round(delay / 1000)} s`);
      setTimeout(() => !stopping && !shuttingDown && launch(), delay).unref();
    });
  };
  launch();

  return {
    get running() {
      return child !== null;
    },
    async stop() {
      stopping = true;
      const running = child;
      if (!running) return;
      const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
      running.kill("SIGTERM");
      const timer = setTimeout(() => running.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 2xx (or the deadline passes). */
export async function waitForHttp(url: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "manual" });
      if (response.status < 400) return true;
    } catch {
      // not up yet
    }
    if (!isAlive()) await new Promise((resolve) => setTimeout(resolve, 500));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
